// The thread's chip shows the most urgent task state in it (waiting for you > running > queued >
// the latest), in the daemon's summaries and in the app's model as events arrive.
import { describe, expect, it } from 'vitest';
import type { ThreadDoc } from '../../daemon/src/store/threads.js';
import { summarize } from '../../daemon/src/store/threads.js';
import type { Task, ThreadSummary } from '../../shared/src/index.js';
import { mostUrgentState } from '../../shared/src/task-states.js';
import { applySequenced, emptyState, setDetail } from '../src/state/model.js';

const task = (id: string, state: Task['state']): Task => ({
  id,
  threadId: 't1',
  state,
  messageId: `u-${id}`,
  createdAt: 1,
  turns: 0,
  usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
  costUsd: 0,
});
const summary = (extra: Partial<ThreadSummary> = {}): ThreadSummary => ({
  id: 't1',
  title: 'T',
  state: 'active',
  createdAt: 1,
  updatedAt: 1,
  lastLine: '',
  ...extra,
});

describe('most urgent state', () => {
  it('orders waiting > running > queued > the latest task', () => {
    expect(mostUrgentState(['done', 'queued', 'waiting'], 'queued')).toBe('waiting');
    expect(mostUrgentState(['queued', 'running'], 'queued')).toBe('running');
    expect(mostUrgentState(['done', 'queued'], 'queued')).toBe('queued');
    expect(mostUrgentState(['done', 'failed'], 'failed')).toBe('failed');
    expect(mostUrgentState([], undefined)).toBeUndefined();
  });

  it('the daemon’s summary of a thread with a waiting task and a later queued one says waiting', () => {
    const doc = {
      meta: { id: 't1', title: 'T', state: 'active', createdAt: 1, updatedAt: 1 },
      items: [],
      tasks: [task('k1', 'waiting'), task('k2', 'queued')],
      agent: {},
    } as unknown as ThreadDoc;
    expect(summarize(doc)).toMatchObject({ lastTaskId: 'k2', lastTaskState: 'queued', urgentState: 'waiting' });
  });

  it('the app keeps the chip on the urgent state as task events arrive', () => {
    let s = emptyState();
    s = setDetail(s, {
      thread: summary({ lastTaskId: 'k1', lastTaskState: 'running' }),
      items: [],
      tasks: [task('k1', 'running')],
      approvals: [],
      questions: [],
    });
    s = { ...s, threads: { t1: summary({ lastTaskId: 'k1', lastTaskState: 'running' }) } };
    s = applySequenced(s, 1, { kind: 'task.updated', task: task('k1', 'waiting') });
    s = applySequenced(s, 2, { kind: 'task.updated', task: task('k2', 'queued') });
    expect(s.threads.t1).toMatchObject({ lastTaskId: 'k2', lastTaskState: 'queued', urgentState: 'waiting' });
    s = applySequenced(s, 3, { kind: 'task.updated', task: task('k1', 'done') });
    expect(s.threads.t1.urgentState).toBe('queued');
  });
});
