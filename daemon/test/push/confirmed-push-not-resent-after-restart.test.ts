// A push waiting for its retry when Errand stops or crashes is sent again at the next start, unless the
// phone confirmed it meanwhile (its `delivered` receipt is durable): then it arrived, and sending it
// again would buzz a second time. kill -9 and SIGTERM, and a push.json left by an earlier version (the
// receipt stored, the push still pending). A receipt that could not be stored (a full disk) leaves the
// push pending as before. The real daemon in a child process; its pushes go to the local push service
// over real https.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { type PushOutcome, summarizePushes } from '../../../shared/src/index.js';
import { pushRef } from '../../src/push/receipts.js';
import { killChildren } from '../helpers/cli.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import { WsTestClient } from '../helpers/ws-client.js';
import { buildLauncher, type ChildDaemon, kill9, spawnPushDaemon } from './crash-daemon.js';
import { decryptPush, FakePushService, makeSubscriber, postReceipt, type Subscriber } from './push-service.js';

let svc: FakePushService;
let model: ModelServer;
let home: string;
let flags: string;
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
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-confirmed-push-'));
  flags = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-confirmed-push-flags-'));
  svc.received.length = 0;
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killChildren(children);
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(flags, { recursive: true, force: true });
});

const pushJson = () => path.join(home, 'store', 'push.json');
interface PushDoc {
  pending: Array<{ pushId: string }>;
}
const readPushJson = () => JSON.parse(fs.readFileSync(pushJson(), 'utf8')) as PushDoc;

function start(extra: Record<string, string> = {}): Promise<ChildDaemon> {
  return spawnPushDaemon(
    svc,
    { HOME_DIR: home, MODEL_URL: model.url, FAIL_PUSH_WRITE_FLAG: path.join(flags, 'fail'), ...extra },
    children,
  );
}
async function open(d: ChildDaemon, token: string): Promise<WsTestClient> {
  const ws = await WsTestClient.open(d.url, token);
  clients.push(ws);
  return ws;
}

/** A phone, a done task whose push met a 502; its retry waits ten minutes. Resolves once it waits. */
async function waitingPush(): Promise<{ d: ChildDaemon; token: string; sub: Subscriber; pushId: string }> {
  svc.respond = () => ({ status: 502 });
  const d = await start({ PAIR: '1', PUSH_RETRY: JSON.stringify({ baseDelayMs: 600_000 }) });
  const { token } = d.tokens[0];
  const ws = await open(d, token);
  const sub = makeSubscriber(`https://fcm.googleapis.com/fcm/send/${path.basename(home)}`);
  await ws.send({ type: 'push.subscribe', subscription: sub.subscription });
  await ws.send({ type: 'thread.create', text: 'Tidy the folder' });
  await svc.waitFor(1, 20_000);
  const pushId = decryptPush(svc.received[0], sub).receipt as string;
  await ws.event('push.outcome', (e) => e.outcome.ref === pushRef(pushId) && e.outcome.result === 'retrying');
  return { d, token, sub, pushId };
}

/**
 * Start again with the push service answering 201; another task's push accepted is the marker that
 * what the start sent has gone out before it. Returns the receipt ids sent, in order, and the first
 * push's summary.
 */
async function afterRestart(token: string, sub: Subscriber, pushId: string) {
  svc.respond = () => ({ status: 201 });
  const again = await start();
  const ws = await open(again, token);
  await ws.send({ type: 'thread.create', text: 'And one more thing' });
  await ws.event(
    'push.outcome',
    (e) => e.outcome.kind === 'task.done' && e.outcome.ref !== pushRef(pushId) && e.outcome.result === 'accepted',
    20_000,
  );
  const steps = (await ws.send<PushOutcome[]>({ type: 'push.outcomes' })).filter((o) => o.ref === pushRef(pushId));
  return {
    sent: svc.received.map((p) => (decryptPush(p, sub).receipt === pushId ? 'first' : 'marker')),
    summary: summarizePushes(steps)[0],
  };
}

it('kill -9 after the phone confirmed the push: the next start does not send it again', async () => {
  const { d, token, sub, pushId } = await waitingPush();
  expect((await postReceipt(d.url, { pushId, state: 'delivered', at: Date.now() })).status).toBe(200);
  expect(readPushJson().pending.map((p) => p.pushId)).not.toContain(pushId); // settled with the receipt
  await kill9(d);

  const { sent, summary } = await afterRestart(token, sub, pushId);
  expect(sent).toEqual(['first', 'marker']);
  expect(summary).toMatchObject({ state: 'delivered' });
  expect(readPushJson().pending).toEqual([]);
}, 120_000);

it('SIGTERM after the phone opened the push: the next start does not send it again', async () => {
  const { d, token, sub, pushId } = await waitingPush();
  expect((await postReceipt(d.url, { pushId, state: 'opened', at: Date.now() })).status).toBe(200);
  d.child.kill('SIGTERM');
  expect((await d.exited).code).toBe(0);

  const { sent, summary } = await afterRestart(token, sub, pushId);
  expect(sent).toEqual(['first', 'marker']);
  expect(summary).toMatchObject({ state: 'opened' });
}, 120_000);

it('a push.json an earlier version left (receipt stored, push still pending): the start settles it, unsent', async () => {
  const { d, token, sub, pushId } = await waitingPush();
  const pendingBefore = readPushJson().pending;
  expect(pendingBefore.map((p) => p.pushId)).toEqual([pushId]);
  expect((await postReceipt(d.url, { pushId, state: 'delivered', at: Date.now() })).status).toBe(200);
  await kill9(d);
  // As an earlier version wrote it: the receipt's outcome in the file, the push still pending beside it.
  const doc = readPushJson();
  doc.pending = pendingBefore;
  fs.writeFileSync(pushJson(), JSON.stringify(doc), { mode: 0o600 });

  const { sent, summary } = await afterRestart(token, sub, pushId);
  expect(sent).toEqual(['first', 'marker']);
  expect(summary).toMatchObject({ state: 'delivered' });
  expect(readPushJson().pending).toEqual([]);
}, 120_000);

it('a receipt that could not be stored leaves the push pending: after a crash it is sent again', async () => {
  const { d, token, sub, pushId } = await waitingPush();
  fs.writeFileSync(path.join(flags, 'fail'), ''); // the receipt's write fails (a full disk)
  expect((await postReceipt(d.url, { pushId, state: 'delivered', at: Date.now() })).status).toBe(503);
  // Another write of push.json (another task's push) must not carry the push out of pending either.
  const ws = await open(d, token);
  await ws.send({ type: 'thread.create', text: 'Sort the receipts' });
  await svc.waitFor(2, 20_000);
  await ws.event(
    'push.outcome',
    (e) => e.outcome.kind === 'task.done' && e.outcome.ref !== pushRef(pushId) && e.outcome.result === 'retrying',
  );
  expect(readPushJson().pending.map((p) => p.pushId)).toContain(pushId);
  await kill9(d);

  const { sent } = await afterRestart(token, sub, pushId);
  expect(sent.filter((s) => s === 'first')).toHaveLength(2); // sent again: nothing said it arrived
}, 120_000);
