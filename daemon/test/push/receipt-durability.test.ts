// A receipt is answered 200 only once it is on disk (the service worker drops it on a 200), and
// push.json and the journal agree about it: kill -9 right after the 200 loses nothing, and neither
// holds a "delivered" the other lost. A receipt that cannot be stored (a full disk) gets 503 with a
// clear message, so the worker keeps it; sent again, it is recorded once.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import type { PushOutcome } from '../../../shared/src/index.js';
import { pushRef } from '../../src/push/receipts.js';
import { killChildren } from '../helpers/cli.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import { WsTestClient } from '../helpers/ws-client.js';
import { buildLauncher, type ChildDaemon, kill9, spawnPushDaemon } from './crash-daemon.js';
import { decryptPush, FakePushService, makeSubscriber, postReceipt } from './push-service.js';

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
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-receipt-durable-'));
  flags = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-receipt-flags-'));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killChildren(children);
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(flags, { recursive: true, force: true });
});

const env = () => ({
  HOME_DIR: home,
  MODEL_URL: model.url,
  SLOW_PUSH_WRITE_FLAG: path.join(flags, 'slow'),
  FAIL_PUSH_WRITE_FLAG: path.join(flags, 'fail'),
});

/** Start the daemon with one paired, subscribed phone; run a task; return the push's receipt id. */
async function pushedTask(): Promise<{ d: ChildDaemon; ws: WsTestClient; token: string; pushId: string }> {
  const d = await spawnPushDaemon(svc, { ...env(), PAIR: '1' }, children);
  const { token } = d.tokens[0];
  const ws = await WsTestClient.open(d.url, token);
  clients.push(ws);
  const sub = makeSubscriber(`https://web.push.apple.com/QG${path.basename(home)}`);
  await ws.send({ type: 'push.subscribe', subscription: sub.subscription });
  const before = svc.received.length;
  await ws.send({ type: 'thread.create', text: 'Tidy the folder' });
  await svc.waitFor(before + 1, 20_000);
  const pushId = decryptPush(svc.received[before], sub).receipt as string;
  await ws.event('push.outcome', (e) => e.outcome.ref === pushRef(pushId) && e.outcome.result === 'accepted');
  return { d, ws, token, pushId };
}

it('kill -9 right after the 200: the receipt is in push.json and in the journal after the restart', async () => {
  const { d, token, pushId } = await pushedTask();
  fs.writeFileSync(env().SLOW_PUSH_WRITE_FLAG, ''); // the disk is slow from now on
  const r = await postReceipt(d.url, { pushId, state: 'delivered' });
  expect(r).toEqual({ status: 200, body: { ok: true } });
  await kill9(d);
  fs.rmSync(env().SLOW_PUSH_WRITE_FLAG);

  const again = await spawnPushDaemon(svc, env(), children);
  const ws = await WsTestClient.open(again.url, token, 0);
  clients.push(ws);
  const stored = await ws.send<PushOutcome[]>({ type: 'push.outcomes' });
  expect(stored.filter((o) => o.ref === pushRef(pushId)).map((o) => o.result)).toEqual(['accepted', 'delivered']);
  const replayed = ws
    .events()
    .filter((e) => e.event.kind === 'push.outcome' && e.event.outcome.ref === pushRef(pushId))
    .map((e) => (e.event as { outcome: PushOutcome }).outcome.result);
  expect(replayed).toEqual(['accepted', 'delivered']);
  // The worker would not send it again; if it did, it is taken once.
  expect((await postReceipt(again.url, { pushId, state: 'delivered' })).status).toBe(200);
}, 60_000);

it('a receipt that cannot be stored gets 503 and a clear message; sent again it is recorded once', async () => {
  const { d, ws, pushId } = await pushedTask();
  fs.writeFileSync(env().FAIL_PUSH_WRITE_FLAG, ''); // the next write of push.json fails: disk full
  const refused = await postReceipt(d.url, { pushId, state: 'delivered' });
  expect(refused.status).toBe(503);
  expect(refused.body).toMatchObject({ error: 'unavailable', message: expect.stringMatching(/could not save/) });
  expect(fs.existsSync(env().FAIL_PUSH_WRITE_FLAG)).toBe(false);

  const delivered = ws.event('push.outcome', (e) => e.outcome.result === 'delivered');
  expect(await postReceipt(d.url, { pushId, state: 'delivered' })).toEqual({ status: 200, body: { ok: true } });
  expect((await delivered).outcome.ref).toBe(pushRef(pushId));
  const stored = await ws.send<PushOutcome[]>({ type: 'push.outcomes' });
  expect(stored.map((o) => o.result)).toEqual(['accepted', 'delivered']);
  expect(
    ws.events().filter((e) => e.event.kind === 'push.outcome' && e.event.outcome.result === 'delivered'),
  ).toHaveLength(1);
  // Nothing of the receipt (its id) in the daemon's output.
  expect(d.output()).not.toContain(pushId);
}, 60_000);
