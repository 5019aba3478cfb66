// A "done" push is not lost to a crash or a stop: it is recorded in push.json before it is sent and
// stays pending until its outcome is final. kill -9 while the push service has not answered, or a
// clean stop while a retry waits: the next start sends it again (same receipt id) and records the
// outcome. One left too long (over an hour) is recorded as not sent instead of going out stale.
// The real daemon runs in a child process; its pushes go to the local push service over real https.
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
import { decryptPush, FakePushService, makeSubscriber, type Subscriber } from './push-service.js';

let svc: FakePushService;
let model: ModelServer;
let home: string;
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
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-push-pending-'));
  svc.received.length = 0;
  svc.respond = () => ({ status: 201 });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killChildren(children);
  fs.rmSync(home, { recursive: true, force: true });
});

async function start(extra: Record<string, string> = {}): Promise<ChildDaemon> {
  return spawnPushDaemon(svc, { HOME_DIR: home, MODEL_URL: model.url, PUSH_TIMEOUT: '30000', ...extra }, children);
}
async function open(d: ChildDaemon, token: string, lastSeq?: number): Promise<WsTestClient> {
  const ws = await WsTestClient.open(d.url, token, lastSeq);
  clients.push(ws);
  return ws;
}
/** A paired, subscribed phone; a task that finishes; resolves once its push reached the push service. */
async function firstPush(
  extra: Record<string, string> = {},
): Promise<{ d: ChildDaemon; ws: WsTestClient; token: string; sub: Subscriber; pushId: string }> {
  const d = await start({ ...extra, PAIR: '1' });
  const { token } = d.tokens[0];
  const ws = await open(d, token);
  const sub = makeSubscriber(`https://fcm.googleapis.com/fcm/send/${path.basename(home)}`);
  await ws.send({ type: 'push.subscribe', subscription: sub.subscription });
  await ws.send({ type: 'thread.create', text: 'Tidy the folder' });
  await svc.waitFor(1, 20_000);
  const pushId = decryptPush(svc.received[0], sub).receipt as string;
  return { d, ws, token, sub, pushId };
}
/** Another task's push arriving is the marker that anything started before it has gone out too. */
async function anotherPush(ws: WsTestClient, n: number): Promise<void> {
  await ws.send({ type: 'thread.create', text: 'And one more thing' });
  await svc.waitFor(n, 20_000);
}
const steps = (list: PushOutcome[], pushId: string) =>
  list.filter((o) => o.ref === pushRef(pushId)).map((o) => `${o.result}${o.detail ? `: ${o.detail}` : ''}`);

it('kill -9 while the push is in flight: the next start sends it again, once, with the same receipt id', async () => {
  svc.respond = () => ({ status: 0, hold: true }); // the push service takes the request and never answers
  const { d, token, sub, pushId } = await firstPush();
  await kill9(d);

  svc.respond = () => ({ status: 201 });
  const again = await start();
  const ws = await open(again, token);
  await svc.waitFor(2, 20_000);
  expect(decryptPush(svc.received[1], sub)).toMatchObject({ type: 'task.done', receipt: pushId });
  await ws.event('push.outcome', (e) => e.outcome.ref === pushRef(pushId) && e.outcome.result === 'accepted');
  await anotherPush(ws, 3);
  expect(svc.received.map((p) => decryptPush(p, sub).receipt)).toEqual([pushId, pushId, expect.any(String)]);
  expect(steps(await ws.send<PushOutcome[]>({ type: 'push.outcomes' }), pushId)).toEqual(['accepted']);
  const stored = JSON.parse(fs.readFileSync(path.join(home, 'store', 'push.json'), 'utf8')) as {
    pending: Array<{ pushId: string }>;
  };
  expect(stored.pending.map((p) => p.pushId)).not.toContain(pushId); // settled
}, 90_000);

it('a clean stop while a retry waits keeps the push; the next start sends it', async () => {
  svc.respond = () => ({ status: 503, body: 'busy' });
  // The retry would come in 10 minutes: the stop comes first.
  const { d, ws, token, sub, pushId } = await firstPush({ PUSH_RETRY: JSON.stringify({ baseDelayMs: 600_000 }) });
  const waiting = await ws.event('push.outcome', (e) => e.outcome.ref === pushRef(pushId));
  expect(waiting.outcome).toMatchObject({
    result: 'retrying',
    status: 503,
    detail: expect.stringMatching(/retrying in/),
  });
  d.child.kill('SIGTERM');
  expect((await d.exited).code).toBe(0);

  svc.respond = () => ({ status: 201 });
  const again = await start();
  const ws2 = await open(again, token);
  await ws2.event('push.outcome', (e) => e.outcome.ref === pushRef(pushId) && e.outcome.result === 'accepted');
  expect(svc.received.map((p) => decryptPush(p, sub).receipt)).toEqual([pushId, pushId]);
  await anotherPush(ws2, 3);
  expect(steps(await ws2.send<PushOutcome[]>({ type: 'push.outcomes' }), pushId)).toEqual([
    expect.stringMatching(/^retrying: push service error .*retrying in/),
    'accepted',
  ]);
}, 90_000);

it('one left pending for over an hour is recorded as not sent, and not sent', async () => {
  svc.respond = () => ({ status: 0, hold: true });
  const { d, token, sub, pushId } = await firstPush();
  await kill9(d);
  // An hour and more passes before Errand starts again.
  const file = path.join(home, 'store', 'push.json');
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { pending: Array<{ pushId: string; at: number }> };
  expect(doc.pending.map((p) => p.pushId)).toEqual([pushId]);
  doc.pending[0].at -= 2 * 3600_000;
  fs.writeFileSync(file, JSON.stringify(doc), { mode: 0o600 });

  svc.respond = () => ({ status: 201 });
  const again = await start();
  const ws = await open(again, token);
  await anotherPush(ws, 2);
  expect(decryptPush(svc.received[1], sub).receipt).not.toBe(pushId);
  expect(steps(await ws.send<PushOutcome[]>({ type: 'push.outcomes' }), pushId)).toEqual([
    'failed: not sent: Errand stopped before it went out, and it is too old to send now',
  ]);
}, 90_000);
