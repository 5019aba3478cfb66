// A task a crash cut off never finishes by itself, so the "done" push the person waits for would
// never come: the start after the crash pushes "Interrupted" (once, however often Errand starts
// again). A task a clean stop cut off resumes on the next start and is not pushed as interrupted.
// The real daemon runs in a child process; its pushes go to the local push service over real https.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Task } from '../../../shared/src/index.js';
import { killChildren } from '../helpers/cli.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import { WsTestClient } from '../helpers/ws-client.js';
import { buildLauncher, type ChildDaemon, kill9, spawnPushDaemon } from './crash-daemon.js';
import { decryptPush, FakePushService, makeSubscriber, type Subscriber } from './push-service.js';

let svc: FakePushService;
let model: ModelServer;
/** While set, the model takes each request and never answers (the task stays running). */
let hang = true;
let home: string;
const children: ChildProcess[] = [];
const clients: WsTestClient[] = [];

beforeAll(async () => {
  expect(fs.existsSync(buildLauncher())).toBe(true);
  svc = await FakePushService.start();
  model = await startModelServer(() => (hang ? { kind: 'hang' } : reply(text('All done.'))));
}, 180_000);
afterAll(async () => {
  await Promise.all([svc.close(), model.close()]);
});
beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-interrupted-push-'));
  svc.received.length = 0;
  hang = true;
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killChildren(children);
  fs.rmSync(home, { recursive: true, force: true });
});

const start = (pair = false) =>
  spawnPushDaemon(svc, { HOME_DIR: home, MODEL_URL: model.url, ...(pair ? { PAIR: '1' } : {}) }, children);
async function open(d: ChildDaemon, token: string): Promise<WsTestClient> {
  const ws = await WsTestClient.open(d.url, token);
  clients.push(ws);
  return ws;
}
/** A paired, subscribed phone and a task the model is working on (its request is held open). */
async function runningTask(): Promise<{ d: ChildDaemon; token: string; sub: Subscriber; task: Task }> {
  const d = await start(true);
  const { token } = d.tokens[0];
  const ws = await open(d, token);
  const sub = makeSubscriber(`https://fcm.googleapis.com/fcm/send/${path.basename(home)}`);
  await ws.send({ type: 'push.subscribe', subscription: sub.subscription });
  const before = model.requests.length;
  const { task } = await ws.send<{ task: Task }>({ type: 'thread.create', text: 'Write the quarterly report' });
  await model.waitForRequests(before + 1, 20_000);
  return { d, token, sub, task };
}
/** Another task's push arriving is the marker that anything the start announced has gone out too. */
async function anotherPush(ws: WsTestClient, n: number): Promise<void> {
  await ws.send({ type: 'thread.create', text: 'And one more thing' });
  await svc.waitFor(n, 20_000);
}

it('after a crash, the cut-off task is pushed as interrupted, once', async () => {
  const { d, token, sub, task } = await runningTask();
  await kill9(d);
  hang = false;

  const again = await start();
  const ws = await open(again, token);
  await svc.waitFor(1, 20_000);
  const push = decryptPush(svc.received[0], sub);
  expect(push).toMatchObject({
    type: 'task.interrupted',
    threadId: task.threadId,
    title: expect.stringMatching(/^Interrupted · /),
    body: 'Errand stopped unexpectedly while this task was running. Open Errand to resume it.',
  });
  const { tasks } = await ws.send<{ tasks: Task[] }>({ type: 'thread.get', threadId: task.threadId });
  expect(tasks.find((t) => t.id === task.id)?.state).toBe('interrupted');

  // Every start announces the interrupted task again: it is not news twice.
  again.child.kill('SIGTERM');
  await again.exited;
  const third = await start();
  await anotherPush(await open(third, token), 2);
  expect(svc.received.map((p) => decryptPush(p, sub).type)).toEqual(['task.interrupted', 'task.done']);
}, 120_000);

it('a clean stop resumes the task on the next start: "done", never "interrupted"', async () => {
  const { d, token, sub, task } = await runningTask();
  d.child.kill('SIGTERM');
  expect((await d.exited).code).toBe(0);
  hang = false;

  const again = await start();
  const ws = await open(again, token);
  await svc.waitFor(1, 20_000);
  expect(decryptPush(svc.received[0], sub)).toMatchObject({ type: 'task.done', threadId: task.threadId });
  await anotherPush(ws, 2);
  expect(svc.received.map((p) => decryptPush(p, sub).type)).toEqual(['task.done', 'task.done']);
}, 120_000);
