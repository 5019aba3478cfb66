// Parallel tasks across threads up to agent.maxParallelTasks; the rest queue in order; a follow-up
// waits behind its thread's running task; a task waiting for a person lends its slot.
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  type ModelServer,
  type RecordedRequest,
  reply,
  startModelServer,
  text,
  toolUse,
} from '../helpers/model-server.js';
import { type Harness, startHarness } from './harness.js';

let server: ModelServer;
let h: Harness | undefined;
beforeEach(async () => {
  server = await startModelServer();
});
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
  await server.close();
});

const lastUserText = (r: RecordedRequest): string => {
  const m = r.body.messages.at(-1);
  return m.content.find((b: { type: string }) => b.type === 'text')?.text ?? '';
};

it('runs two threads at once while a third queues (maxParallelTasks 2); a follow-up queues behind its thread', async () => {
  const gates = new Map<string, () => void>();
  const gate = (name: string) => new Promise<void>((r) => gates.set(name, r));
  const waits = new Map<string, Promise<void>>([
    ['A', gate('A')],
    ['B', gate('B')],
    ['C', gate('C')],
    ['A2', gate('A2')],
  ]);
  server.setScript(async (req) => {
    const name = lastUserText(req);
    await waits.get(name);
    return reply(text(`done ${name}`));
  });
  h = await startHarness({ modelUrl: server.url, config: { agent: { maxParallelTasks: 2 } } });
  const a = await h.send('thread.create', { text: 'A' });
  const b = await h.send('thread.create', { text: 'B' });
  const c = await h.send('thread.create', { text: 'C' });
  await server.waitForRequests(2);
  const a2 = await h.send('thread.send', { threadId: a.thread.id, text: 'A2' });
  await new Promise((r) => setTimeout(r, 300));
  expect(server.requests.map(lastUserText)).toEqual(['A', 'B']);
  expect((await h.waitTask(a.task.id, ['running'])).state).toBe('running');
  expect((await h.waitTask(b.task.id, ['running'])).state).toBe('running');
  expect((await h.waitTask(c.task.id, ['queued'])).state).toBe('queued');
  expect(h.ctx.status()).toMatchObject({ runningTasks: 2, queuedTasks: 2 });

  gates.get('B')!();
  await h.waitTask(b.task.id, ['done']);
  await server.waitForRequests(3);
  await new Promise((r) => setTimeout(r, 200));
  // C took the free slot; A2 still waits for A although it was sent later than C only.
  expect(server.requests.map(lastUserText)).toEqual(['A', 'B', 'C']);
  expect((await h.waitTask(a2.task.id, ['queued'])).state).toBe('queued');

  gates.get('A')!();
  await h.waitTask(a.task.id, ['done']);
  await server.waitForRequests(4);
  expect(server.requests.map(lastUserText)).toEqual(['A', 'B', 'C', 'A2']);
  // The follow-up carries A's history.
  expect(server.requests[3].body.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user']);
  gates.get('C')!();
  gates.get('A2')!();
  await h.waitTask(c.task.id, ['done']);
  await h.waitTask(a2.task.id, ['done']);
  await h.agent.idle();
  expect(h.ctx.status()).toMatchObject({ runningTasks: 0, queuedTasks: 0 });
});

it('a task waiting for an approval gives its slot to another thread meanwhile', async () => {
  server.setScript((req) => {
    const name = lastUserText(req);
    if (name === 'first') return reply(toolUse('approve_me', { waitMs: 800 }));
    if (name === 'second') return reply(text('second done'));
    return reply(text('first done'));
  });
  h = await startHarness({ modelUrl: server.url, config: { agent: { maxParallelTasks: 1 } } });
  const first = await h.send('thread.create', { text: 'first' });
  await h.waitTask(first.task.id, ['waiting']);
  const second = await h.send('thread.create', { text: 'second' });
  const done2 = await h.waitTask(second.task.id, ['done']);
  const stillFirst = await h.waitTask(first.task.id, ['waiting', 'running']);
  expect(stillFirst.state).toBe('waiting');
  expect(done2.resultSummary).toBe('second done');
  const done1 = await h.waitTask(first.task.id, ['done']);
  expect(done1.resultSummary).toBe('first done');
  await h.agent.idle();
  const states = h
    .eventsOf('task.updated')
    .filter((e) => e.task.id === first.task.id)
    .map((e) => e.task.state);
  expect(states).toEqual(expect.arrayContaining(['queued', 'running', 'waiting', 'done']));
});

it('cancels a queued task before it starts', async () => {
  server.setScript(async () => {
    await new Promise((r) => setTimeout(r, 300));
    return reply(text('ok'));
  });
  h = await startHarness({ modelUrl: server.url, config: { agent: { maxParallelTasks: 1 } } });
  const one = await h.send('thread.create', { text: 'one' });
  const two = await h.send('thread.create', { text: 'two' });
  const { task } = await h.send('task.cancel', { taskId: two.task.id });
  expect(task).toMatchObject({ state: 'cancelled', reason: 'Cancelled before it started.' });
  await h.waitTask(one.task.id, ['done']);
  await h.agent.idle();
  expect(server.requests).toHaveLength(1);
  await expect(h.send('task.cancel', { taskId: one.task.id })).rejects.toMatchObject({ code: 'conflict' });
});

it('cancel reaches a task that waits to get its slot back after an approval', async () => {
  server.setScript((req) => {
    const name = lastUserText(req);
    if (name === 'approval') return reply(toolUse('approve_me', { waitMs: 300 }));
    if (name === 'blocker') return { kind: 'hang' };
    return reply(text('unexpected'));
  });
  h = await startHarness({ modelUrl: server.url, config: { agent: { maxParallelTasks: 1 } } });
  const first = await h.send('thread.create', { text: 'approval' });
  await h.waitTask(first.task.id, ['waiting']);
  await h.send('thread.create', { text: 'blocker' });
  await server.waitForRequests(2);
  await new Promise((r) => setTimeout(r, 500)); // the approval came through; the slot is taken by the blocker
  expect((await h.waitTask(first.task.id, ['waiting', 'running'])).state).toBe('waiting');
  const t0 = Date.now();
  const { task } = await h.send('task.cancel', { taskId: first.task.id });
  expect(Date.now() - t0).toBeLessThan(1000);
  expect(task.state).toBe('cancelled');
});
