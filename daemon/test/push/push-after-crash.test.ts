// A task's "done" is committed, and a moment later its push is recorded in push.json: kill -9 in
// between must not lose the push. The next start finds the ending among the events committed after
// the last one push.json looked at, and sends it, once: a later crash or stop does not send it again.
// The real daemon runs in a child process; its pushes go to the local push service over real https.
// The crash window is held open by slowing push.json's writes (SLOW_PUSH_WRITE_FLAG): the push is
// built and its write started, and the kill comes as soon as the phone sees the task "done".
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import type { PushOutcome, Task } from '../../../shared/src/index.js';
import { pushRef } from '../../src/push/receipts.js';
import { killChildren } from '../helpers/cli.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import { WsTestClient } from '../helpers/ws-client.js';
import { buildLauncher, type ChildDaemon, kill9, spawnPushDaemon } from './crash-daemon.js';
import { decryptPush, FakePushService, makeSubscriber, type Subscriber } from './push-service.js';

let svc: FakePushService;
let model: ModelServer;
let home: string;
let slowFlag: string;
const children: ChildProcess[] = [];
const clients: WsTestClient[] = [];

beforeAll(async () => {
  expect(fs.existsSync(buildLauncher())).toBe(true);
  svc = await FakePushService.start();
  model = await startModelServer(() => reply(text('All done.')));
}, 180_000);
afterAll(async () => {
  await Promise.all([svc.close(), model.close()]);
});
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-push-after-crash-'));
  slowFlag = path.join(home, 'slow-push-write');
  svc.received.length = 0;
  svc.respond = () => ({ status: 201 });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killChildren(children);
  fs.rmSync(home, { recursive: true, force: true });
});

const start = (pair = false) =>
  spawnPushDaemon(
    svc,
    { HOME_DIR: home, MODEL_URL: model.url, SLOW_PUSH_WRITE_FLAG: slowFlag, ...(pair ? { PAIR: '1' } : {}) },
    children,
  );
/** From the first event: a push outcome recorded before the phone connects is seen too. */
async function open(d: ChildDaemon, token: string): Promise<WsTestClient> {
  const ws = await WsTestClient.open(d.url, token, 0);
  clients.push(ws);
  return ws;
}
const pushJson = () =>
  JSON.parse(fs.readFileSync(path.join(home, 'store', 'push.json'), 'utf8')) as {
    pushedKeys: string[];
    pending: Array<{ job: { key: string } }>;
  };
/** The pushes received so far, as "<type> <thread id>". */
const pushesSeen = (sub: Subscriber) =>
  svc.received.map((p) => decryptPush(p, sub)).map((p) => `${p.type as string} ${p.threadId as string}`);
/** Resolves once push.json holds the push's outcome (a push without one is sent again after a crash). */
async function accepted(ws: WsTestClient, sub: Subscriber, i: number): Promise<void> {
  const pushId = decryptPush(svc.received[i], sub).receipt as string;
  await ws.event('push.outcome', (e) => e.outcome.ref === pushRef(pushId) && e.outcome.result === 'accepted');
}
/**
 * Another task's push arriving (the n-th) is the marker that anything the start sent has gone out too;
 * resolves once its outcome is recorded.
 */
async function anotherPush(ws: WsTestClient, sub: Subscriber, n: number): Promise<string> {
  const { task } = await ws.send<{ task: Task }>({ type: 'thread.create', text: 'And one more thing' });
  await svc.waitFor(n, 20_000);
  await accepted(ws, sub, n - 1);
  return task.threadId;
}

it('kill -9 right after a task is committed "done": the next start sends its push, once', async () => {
  const d = await start(true);
  const { token } = d.tokens[0];
  const ws = await open(d, token);
  const sub = makeSubscriber(`https://fcm.googleapis.com/fcm/send/${path.basename(home)}`);
  await ws.send({ type: 'push.subscribe', subscription: sub.subscription });

  // The task ends; its push cannot be recorded yet (push.json's write is slow): kill -9 now.
  fs.writeFileSync(slowFlag, '');
  const { task } = await ws.send<{ task: Task }>({ type: 'thread.create', text: 'Tidy the folder' });
  await ws.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
  await kill9(d);
  fs.rmSync(slowFlag);
  // The crash window the audit found: the ending is committed, its push nowhere.
  const cut = pushJson();
  expect(cut.pushedKeys.filter((k) => k.startsWith(`task:${task.id}:`))).toEqual([]);
  expect(cut.pending).toEqual([]);
  expect(svc.received).toHaveLength(0);

  const again = await start();
  const ws2 = await open(again, token);
  const second = await anotherPush(ws2, sub, 2);
  expect(pushesSeen(sub)).toEqual([`task.done ${task.threadId}`, `task.done ${second}`]);
  await accepted(ws2, sub, 0);
  const pushId = decryptPush(svc.received[0], sub).receipt as string;
  const outcomes = await ws2.send<PushOutcome[]>({ type: 'push.outcomes' });
  expect(outcomes.filter((o) => o.ref === pushRef(pushId)).map((o) => o.result)).toEqual(['accepted']);

  // Sent and recorded: neither another crash nor a clean stop sends it again.
  await kill9(again);
  const third = await start();
  const third2 = await anotherPush(await open(third, token), sub, 3);
  third.child.kill('SIGTERM');
  expect((await third.exited).code).toBe(0);
  const fourth = await start();
  const fourth2 = await anotherPush(await open(fourth, token), sub, 4);
  expect(pushesSeen(sub)).toEqual([
    `task.done ${task.threadId}`,
    `task.done ${second}`,
    `task.done ${third2}`,
    `task.done ${fourth2}`,
  ]);
}, 120_000);

it('a push delivered before the crash is not sent again', async () => {
  const d = await start(true);
  const { token } = d.tokens[0];
  const ws = await open(d, token);
  const sub = makeSubscriber(`https://fcm.googleapis.com/fcm/send/${path.basename(home)}`);
  await ws.send({ type: 'push.subscribe', subscription: sub.subscription });
  const first = await anotherPush(ws, sub, 1);
  await kill9(d);

  const again = await start();
  const second = await anotherPush(await open(again, token), sub, 2);
  expect(pushesSeen(sub)).toEqual([`task.done ${first}`, `task.done ${second}`]);
}, 120_000);
