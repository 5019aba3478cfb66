import { describe, expect, it } from 'vitest';
import type { ServerEvent, Task, ThreadItem, ThreadSummary } from '../../shared/src/index.js';
import {
  applySequenced,
  applySnapshot,
  cacheIsStale,
  emptyState,
  groupByTask,
  isUnread,
  markAllSeen,
  markSeen,
  setDetail,
  threadsSorted,
} from '../src/state/model.js';

const thread = (id: string, updatedAt = 1, extra: Partial<ThreadSummary> = {}): ThreadSummary => ({
  id,
  title: `T ${id}`,
  state: 'active',
  createdAt: 1,
  updatedAt,
  lastLine: '',
  ...extra,
});
const task = (id: string, threadId: string, state: Task['state'] = 'running'): Task => ({
  id,
  threadId,
  state,
  messageId: `u-${id}`,
  createdAt: 1,
  turns: 0,
  usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
  costUsd: 0,
});
const user = (id: string, taskId: string, text = 'hi'): ThreadItem => ({
  kind: 'user',
  id,
  taskId,
  text,
  createdAt: 2,
});

function loaded() {
  let s = emptyState();
  s = setDetail(s, {
    thread: thread('t1'),
    items: [user('u1', 'k1')],
    tasks: [task('k1', 't1')],
    approvals: [],
    questions: [],
  });
  return s;
}

describe('state model', () => {
  it('applies each sequenced event once: replayed events are ignored', () => {
    let s = loaded();
    const delta: ServerEvent = { kind: 'item.delta', threadId: 't1', taskId: 'k1', itemId: 'a1', delta: 'Hel' };
    s = applySequenced(s, 1, {
      kind: 'item.added',
      threadId: 't1',
      item: { kind: 'assistant', id: 'a1', taskId: 'k1', text: '', createdAt: 3 },
    });
    s = applySequenced(s, 2, delta);
    s = applySequenced(s, 3, { ...delta, delta: 'lo' });
    // A reconnect replays 2 and 3 again: no duplicated text.
    s = applySequenced(s, 2, delta);
    s = applySequenced(s, 3, { ...delta, delta: 'lo' });
    const a = s.details.t1.items.find((i) => i.id === 'a1');
    expect(a && a.kind === 'assistant' && a.text).toBe('Hello');
    expect(s.lastSeq).toBe(3);
  });

  it('replaces items by id (item.updated) and never duplicates them', () => {
    let s = loaded();
    s = applySequenced(s, 1, { kind: 'item.added', threadId: 't1', item: user('u1', 'k1') });
    s = applySequenced(s, 2, { kind: 'item.updated', threadId: 't1', item: user('u1', 'k1', 'edited') });
    expect(s.details.t1.items).toHaveLength(1);
    expect((s.details.t1.items[0] as { text: string }).text).toBe('edited');
  });

  it('a delta for an unknown item starts a new assistant item', () => {
    let s = loaded();
    s = applySequenced(s, 1, { kind: 'item.delta', threadId: 't1', taskId: 'k1', itemId: 'a9', delta: 'Hi' });
    expect(s.details.t1.items.map((i) => i.id)).toEqual(['u1', 'a9']);
  });

  it('ignores item events for threads whose history is not loaded', () => {
    let s = emptyState();
    s = applySequenced(s, 1, { kind: 'item.added', threadId: 'tX', item: user('u', 'k') });
    expect(s.details).toEqual({});
    expect(s.lastSeq).toBe(1);
  });

  it('tracks tasks, approvals, questions and changes', () => {
    let s = loaded();
    s = { ...s, threads: { t1: thread('t1', 5, { lastTaskId: 'k1', lastTaskState: 'running' }) } };
    s = applySequenced(s, 1, { kind: 'task.updated', task: task('k1', 't1', 'waiting') });
    expect(s.threads.t1.lastTaskState).toBe('waiting');
    const approval = {
      id: 'ap1',
      taskId: 'k1',
      threadId: 't1',
      tool: 'shell',
      summary: 'Run ls',
      action: { argv: ['ls'] },
      hash: 'h',
      createdAt: 1,
      expiresAt: 2,
      state: 'pending' as const,
    };
    s = applySequenced(s, 2, { kind: 'approval.requested', approval });
    s = applySequenced(s, 3, { kind: 'approval.resolved', approval: { ...approval, state: 'approved' } });
    // Resolved, it goes: thread.get gives pending approvals only.
    expect(s.details.t1.approvals.ap1).toBeUndefined();
    s = applySequenced(s, 4, {
      kind: 'question.asked',
      question: { id: 'q1', taskId: 'k1', threadId: 't1', text: 'Which?', createdAt: 1 },
    });
    expect(Object.keys(s.details.t1.questions)).toEqual(['q1']);
    s = applySequenced(s, 5, { kind: 'question.answered', questionId: 'q1', taskId: 'k1' });
    expect(Object.keys(s.details.t1.questions)).toEqual([]);
    s = applySequenced(s, 6, {
      kind: 'changes.updated',
      taskId: 'k1',
      changes: [{ id: 'c1', taskId: 'k1', op: 'create', path: 'a.md', at: 1 }],
    });
    expect(s.details.t1.changes.k1).toHaveLength(1);
  });

  it('keeps unread marks per thread and sorts by recency', () => {
    let s = emptyState();
    s = applySequenced(s, 1, { kind: 'thread.updated', thread: thread('a', 10) });
    s = applySequenced(s, 2, { kind: 'thread.updated', thread: thread('b', 20) });
    s = markAllSeen(s);
    expect(threadsSorted(s).map((t) => t.id)).toEqual(['b', 'a']);
    expect(isUnread(s, s.threads.a)).toBe(false);
    s = applySequenced(s, 3, { kind: 'thread.updated', thread: thread('a', 30) });
    expect(isUnread(s, s.threads.a)).toBe(true);
    expect(threadsSorted(s)[0].id).toBe('a');
    s = markSeen(s, 'a');
    expect(isUnread(s, s.threads.a)).toBe(false);
    s = applySequenced(s, 4, { kind: 'thread.updated', thread: thread('a', 30, { state: 'deleted' }) });
    expect(s.threads.a).toBeUndefined();
  });

  it('groups items by task in order', () => {
    const g = groupByTask([user('u1', 'k1'), user('x', 'k1'), user('u2', 'k2')]);
    expect(g.map((x) => [x.taskId, x.items.length])).toEqual([
      ['k1', 2],
      ['k2', 1],
    ]);
  });

  it('a snapshot replaces the list and drops histories, keeping unread marks', () => {
    let s = loaded();
    s = { ...s, lastSeq: 5, seen: { t1: 3 } };
    s = applySnapshot(s, 90, [thread('t2', 80)]);
    expect(s.lastSeq).toBe(90);
    expect(Object.keys(s.threads)).toEqual(['t2']);
    expect(s.details).toEqual({});
    expect(s.seen).toEqual({ t1: 3 });
    // Events at or below the snapshot's number are already in it.
    expect(applySequenced(s, 90, { kind: 'thread.updated', thread: thread('t3') }).threads.t3).toBeUndefined();
  });

  it('knows when the saved state belongs to another host or to a newer log', () => {
    const s = { ...emptyState(), hostId: 'h1', lastSeq: 10 };
    expect(cacheIsStale(s, 'h1', 10)).toBe(false);
    expect(cacheIsStale(s, 'h1', 25)).toBe(false);
    expect(cacheIsStale(s, 'h2', 25)).toBe(true);
    expect(cacheIsStale(s, 'h1', 3)).toBe(true);
    expect(cacheIsStale(emptyState(), 'h1', 0)).toBe(false);
  });
});
