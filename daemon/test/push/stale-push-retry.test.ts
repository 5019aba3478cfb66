// A push that waits to go again (a 429 with Retry-After, or pending across a restart) is checked
// before it goes: an approval decided meanwhile, a thread deleted meanwhile, and its push is recorded
// as not sent instead of reaching the lock screen. A retry keeps only what is left of its time to live.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import type { PushOutcome, Task } from '../../../shared/src/index.js';
import { startTestDaemon, type TestDaemon, tempHome } from '../helpers/daemon.js';
import type { WsTestClient } from '../helpers/ws-client.js';
import { doneTask } from './done-task.js';
import { decryptPush, FakePushService, makeSubscriber, type Subscriber } from './push-service.js';

let svc: FakePushService;
let home: string;
const daemons: TestDaemon[] = [];

beforeAll(async () => {
  svc = await FakePushService.start();
});
afterAll(async () => {
  await svc.close();
});
beforeEach(() => {
  home = tempHome('errand-stale-push-');
  svc.received.length = 0;
});
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  fs.rmSync(home, { recursive: true, force: true });
});

async function start(): Promise<TestDaemon> {
  const td = await startTestDaemon({ home, push: { transport: svc.transport() } });
  daemons.push(td);
  return td;
}

/** A paired phone with notifications on. */
async function phone(td: TestDaemon): Promise<{ ws: WsTestClient; token: string; sub: Subscriber }> {
  const { token } = await td.pairDevice('Phone');
  const ws = await td.connect({ token });
  const sub = makeSubscriber();
  await ws.send({ type: 'push.subscribe', subscription: sub.subscription });
  return { ws, token, sub };
}

/** The push service answers the first request with 429 + Retry-After, later ones with 201. */
function throttleFirst(retryAfterSeconds: number): void {
  let n = 0;
  svc.respond = () =>
    n++ === 0 ? { status: 429, headers: { 'retry-after': String(retryAfterSeconds) } } : { status: 201 };
}
const notSent = (o: PushOutcome) => o.result === 'failed' && !!o.detail?.startsWith('not sent');

/** A thread holding a task that just finished (as the agent leaves it), and that task. */
async function threadWithDoneTask(td: TestDaemon, title: string): Promise<{ threadId: string; task: Task }> {
  let task: Task | undefined;
  const doc = await td.daemon.ctx.store.threads.create(title, (d) => {
    task = doneTask({ threadId: d.meta.id });
    d.tasks.push(task);
  });
  return { threadId: doc.meta.id, task: task! };
}

const pendingIds = (td: TestDaemon) =>
  (
    JSON.parse(fs.readFileSync(path.join(td.daemon.ctx.paths.store, 'push.json'), 'utf8')) as {
      pending: Array<{ pushId: string }>;
    }
  ).pending.map((p) => p.pushId);

it('an approval decided while its push waits for a 429 retry is not pushed; the outcome says why', async () => {
  throttleFirst(1);
  const td = await start();
  const { ws } = await phone(td);
  const ctx = td.daemon.ctx;
  const thread = await ctx.store.threads.create('Charts', () => undefined);
  const approval = {
    id: 'apr_stale',
    taskId: 'tsk_x',
    threadId: thread.meta.id,
    tool: 'shell',
    summary: 'Run make',
    action: { argv: ['make'] },
    hash: 'abc',
    createdAt: Date.now(),
    expiresAt: Date.now() + 600_000,
    state: 'pending' as const,
  };
  await ctx.emit({ kind: 'approval.requested', approval });
  const waiting = await ws.event('push.outcome', (e) => e.outcome.kind === 'approval');
  expect(waiting.outcome).toMatchObject({ result: 'retrying', status: 429, detail: expect.stringMatching(/retrying/) });
  // Decided on another device (or the laptop) while the retry waits.
  await ctx.emit({ kind: 'approval.resolved', approval: { ...approval, state: 'approved' } });

  const final = await ws.event(
    'push.outcome',
    (e) => e.outcome.ref === waiting.outcome.ref && (notSent(e.outcome) || e.outcome.result === 'accepted'),
    10_000,
  );
  expect(final.outcome).toMatchObject({ result: 'failed', detail: expect.stringMatching(/^not sent: the approval/) });
  expect(svc.received).toHaveLength(1); // the 429'd attempt only
  expect(pendingIds(td)).toEqual([]);
}, 30_000);

it('a thread deleted while its done push waits for a 429 retry: not pushed; the outcome says why', async () => {
  throttleFirst(1);
  const td = await start();
  const { ws } = await phone(td);
  const ctx = td.daemon.ctx;
  const { threadId, task } = await threadWithDoneTask(td, 'Salary review for Dana');
  await ctx.emit({ kind: 'task.updated', task });
  const waiting = await ws.event('push.outcome', (e) => e.outcome.kind === 'task.done');
  expect(waiting.outcome).toMatchObject({ result: 'retrying', status: 429 });
  await ws.send({ type: 'thread.delete', threadId });

  const final = await ws.event(
    'push.outcome',
    (e) => e.outcome.ref === waiting.outcome.ref && (notSent(e.outcome) || e.outcome.result === 'accepted'),
    10_000,
  );
  expect(final.outcome.detail).toBe('not sent: its thread was deleted');
  expect(svc.received).toHaveLength(1);
}, 30_000);

it('a pending push whose thread was deleted before a restart is recorded as not sent at the start', async () => {
  svc.respond = () => ({ status: 429, headers: { 'retry-after': '600' } }); // the retry waits past the stop
  const td = await start();
  const { ws, token } = await phone(td);
  const ctx = td.daemon.ctx;
  const { threadId, task } = await threadWithDoneTask(td, 'Divorce lawyer shortlist');
  await ctx.emit({ kind: 'task.updated', task });
  const waiting = await ws.event('push.outcome', (e) => e.outcome.kind === 'task.done');
  await ws.send({ type: 'thread.delete', threadId });
  await td.stop();
  daemons.splice(0);
  expect(pendingIds(td)).toHaveLength(1);

  svc.respond = () => ({ status: 201 });
  const again = await start();
  await again.daemon.idle(); // the start's resend of pending pushes has been decided
  expect(svc.received).toHaveLength(1); // nothing went out after the restart
  const ws2 = await again.connect({ token });
  const steps = (await ws2.send<PushOutcome[]>({ type: 'push.outcomes' })).filter((o) => o.ref === waiting.outcome.ref);
  expect(steps.at(-1)).toMatchObject({ result: 'failed', detail: 'not sent: its thread was deleted' });
  expect(pendingIds(again)).toEqual([]);
}, 30_000);

it('a retry carries what is left of the time to live, not a fresh one', async () => {
  throttleFirst(2);
  const td = await start();
  const { sub } = await phone(td);
  const ctx = td.daemon.ctx;
  const { task } = await threadWithDoneTask(td, 'Q3 report');
  await ctx.emit({ kind: 'task.updated', task });
  await svc.waitFor(2, 10_000);
  const [first, retry] = svc.received;
  expect(decryptPush(retry, sub).receipt).toBe(decryptPush(first, sub).receipt);
  expect(Number(first.headers.ttl)).toBe(86_400);
  expect(Number(retry.headers.ttl)).toBeLessThanOrEqual(86_400 - 2);
}, 30_000);
