// A changes.updated event without its list (too long for an event: `omitted`) drops the list the app
// held, and a list on screen is fetched anew with task.changes: at once, or after the next sync when
// the event came in a replay (no request can go out before it). An answer to an older request that
// arrives after a newer one is not applied.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChangeEntry, ServerEvent, Task } from '../../shared/src/index.js';

type Deferred = { resolve: (v: unknown) => void; reject: (e: unknown) => void; cmd: { type: string; taskId: string } };
const conn = vi.hoisted(() => ({
  requests: [] as Deferred[],
  eventListeners: [] as Array<(ev: ServerEvent) => void>,
  syncListeners: [] as Array<() => void>,
}));
vi.mock('../src/conn/connection.js', () => ({
  request: (cmd: { type: string; taskId: string }) =>
    new Promise((resolve, reject) => conn.requests.push({ resolve, reject, cmd })),
  onEvent: (fn: (ev: ServerEvent) => void) => {
    conn.eventListeners.push(fn);
    return () => undefined;
  },
  onSynced: (fn: () => void) => {
    conn.syncListeners.push(fn);
    return () => undefined;
  },
}));

const { ensureChanges, watchChanges } = await import('../src/screens/Cards.js');
const { appStore } = await import('../src/state/app.js');
const { applySequenced, emptyState, setDetail } = await import('../src/state/model.js');

const change = (id: string, taskId: string): ChangeEntry => ({ id, taskId, op: 'create', path: `/w/${id}`, at: 1 });
const task = (id: string): Task => ({
  id,
  threadId: 't1',
  state: 'done',
  messageId: `u-${id}`,
  createdAt: 1,
  turns: 1,
  usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
  costUsd: 0,
});

let seq = 0;
/** What the connection does with an event: apply it to the state, then tell the listeners. */
function deliver(ev: ServerEvent): void {
  appStore.set((s) => applySequenced(s, ++seq, ev));
  for (const fn of conn.eventListeners) fn(ev);
}
const omitted = (taskId: string, count: number): ServerEvent => ({
  kind: 'changes.updated',
  taskId,
  changes: [],
  count,
  omitted: true,
});
const listOf = (taskId: string) => appStore.get().details.t1?.changes[taskId];
const settle = () => new Promise((r) => setTimeout(r, 0));

beforeEach(() => {
  conn.requests.length = 0;
  seq = 0;
  let s = emptyState();
  s = setDetail(s, {
    thread: { id: 't1', title: 'T', state: 'active', createdAt: 1, updatedAt: 1, lastLine: '' },
    items: [],
    tasks: [task('k1'), task('k2')],
    approvals: [],
    questions: [],
  });
  appStore.set(s);
  deliver({ kind: 'changes.updated', taskId: 'k1', changes: [change('c1', 'k1')], count: 1 });
  deliver({ kind: 'changes.updated', taskId: 'k2', changes: [change('d1', 'k2')], count: 1 });
});

describe('a change list too long for its event', () => {
  it('a list on screen is dropped and fetched anew; one not on screen is only dropped', async () => {
    const release = watchChanges('t1', 'k1');
    deliver(omitted('k1', 3000));
    deliver(omitted('k2', 3000));
    expect(listOf('k1')).toBeUndefined();
    expect(listOf('k2')).toBeUndefined();
    expect(conn.requests.map((r) => r.cmd)).toEqual([{ type: 'task.changes', taskId: 'k1' }]);
    const full = Array.from({ length: 3000 }, (_, i) => change(`c${i}`, 'k1'));
    conn.requests[0].resolve({ changes: full });
    await settle();
    expect(listOf('k1')).toHaveLength(3000);
    release();
    // Off screen now: the next one is dropped, not fetched.
    deliver(omitted('k1', 3001));
    expect(listOf('k1')).toBeUndefined();
    expect(conn.requests).toHaveLength(1);
  });

  it('an event replayed before the sync (requests refused) is fetched after it', async () => {
    const release = watchChanges('t1', 'k1');
    deliver(omitted('k1', 3000));
    conn.requests[0].reject(new Error("Can't reach your computer right now."));
    await settle();
    expect(listOf('k1')).toBeUndefined();
    for (const fn of conn.syncListeners) fn();
    expect(conn.requests.map((r) => r.cmd)).toEqual([
      { type: 'task.changes', taskId: 'k1' },
      { type: 'task.changes', taskId: 'k1' },
    ]);
    conn.requests[1].resolve({ changes: [change('c1', 'k1'), change('c2', 'k1')] });
    await settle();
    expect(listOf('k1')).toHaveLength(2);
    release();
  });

  it('the answer to a request made before the event, arriving last, does not undo the newer one', async () => {
    const release = watchChanges('t1', 'k1');
    const older = ensureChanges('t1', 'k1', true);
    deliver(omitted('k1', 3000));
    expect(conn.requests).toHaveLength(2);
    conn.requests[1].resolve({ changes: [change('new', 'k1')] });
    await settle();
    conn.requests[0].resolve({ changes: [change('old', 'k1')] });
    await older;
    expect(listOf('k1')?.map((c) => c.id)).toEqual(['new']);
    release();
  });
});
