// A push waiting for its retry (the push service answered with a server error) while the device
// renews its subscription (the app does when the browser's changes) goes to the new subscription,
// encrypted for its keys, with the same receipt id; the same after a restart. Turned off meanwhile
// (push.unsubscribe), it ends as "not sent" for good, never "retrying" forever. A real daemon, the real
// https transport, the fake push service.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { type PushOutcome, pushStateWords, summarizePushes } from '../../../shared/src/index.js';
import { startTestDaemon, type TestDaemon, tempHome } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import type { WsTestClient } from '../helpers/ws-client.js';
import { decryptPush, FakePushService, makeSubscriber, type Subscriber } from './push-service.js';

let svc: FakePushService;
let model: ModelServer;
let home: string;
const daemons: TestDaemon[] = [];

beforeAll(async () => {
  svc = await FakePushService.start();
  model = await startModelServer(() => reply(text('All done.')));
});
afterAll(async () => {
  await Promise.all([svc.close(), model.close()]);
});
beforeEach(() => {
  home = tempHome('errand-renewed-sub-');
  svc.received.length = 0;
});
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  fs.rmSync(home, { recursive: true, force: true });
});

/** `baseDelayMs`: the retry after a server error comes after 0.8–1.2 times this. */
async function start(baseDelayMs: number): Promise<TestDaemon> {
  const td = await startTestDaemon({
    home,
    config: { anthropic: { apiKey: 'sk-test-key', baseUrl: model.url, model: 'claude-sonnet-4-6' } },
    push: { transport: svc.transport(), retry: { baseDelayMs } },
  });
  daemons.push(td);
  return td;
}

const pendingIds = (td: TestDaemon) =>
  (
    JSON.parse(fs.readFileSync(path.join(td.daemon.ctx.paths.store, 'push.json'), 'utf8')) as {
      pending: Array<{ pushId: string }>;
    }
  ).pending.map((p) => p.pushId);

const requestsTo = (sub: Subscriber) =>
  svc.received.filter((r) => `https://${r.host.replace(/:\d+$/, '')}${r.path}` === sub.subscription.endpoint);

/**
 * A paired phone with notifications on; a done task whose push met a 500. Resolves once the push waits
 * for its retry, with its ref and receipt id.
 */
async function waitingPush(td: TestDaemon) {
  const { token } = await td.pairDevice('Phone');
  const ws = await td.connect({ token });
  const first = makeSubscriber();
  await ws.send({ type: 'push.subscribe', subscription: first.subscription });
  svc.respond = () => ({ status: 500 });
  const { thread } = await ws.send<{ thread: { id: string } }>({ type: 'thread.create', text: 'Tidy the notes' });
  const waiting = await ws.event(
    'push.outcome',
    (e) => e.outcome.threadId === thread.id && e.outcome.result === 'retrying',
    20_000,
  );
  svc.respond = () => ({ status: 201 });
  const pushId = decryptPush(requestsTo(first)[0], first).receipt as string;
  return { ws, token, first, ref: waiting.outcome.ref!, pushId, threadId: thread.id };
}

const stepsOf = async (ws: WsTestClient, ref: string) =>
  (await ws.send<PushOutcome[]>({ type: 'push.outcomes' })).filter((o) => o.ref === ref);

it('renewed while the retry waits: the retry goes to the new subscription, same receipt id', async () => {
  const td = await start(1500);
  const { ws, first, ref, pushId, threadId } = await waitingPush(td);
  const renewed = makeSubscriber();
  await ws.send({ type: 'push.subscribe', subscription: renewed.subscription });

  const accepted = await ws.event('push.outcome', (e) => e.outcome.ref === ref && e.outcome.result !== 'retrying');
  expect(accepted.outcome).toMatchObject({ result: 'accepted', status: 201 });
  expect(requestsTo(first)).toHaveLength(1);
  expect(requestsTo(renewed)).toHaveLength(1);
  // Encrypted for the new keys: the new subscription's browser reads it, and its receipt proves it.
  expect(decryptPush(requestsTo(renewed)[0], renewed)).toMatchObject({ type: 'task.done', threadId, receipt: pushId });
  expect(summarizePushes(await stepsOf(ws, ref))[0].state).toBe('accepted');
  expect(pendingIds(td)).toEqual([]);
}, 60_000);

it('turned off while the retry waits: not sent, recorded so for good (not "retrying" forever)', async () => {
  const td = await start(1500);
  const { ws, ref } = await waitingPush(td);
  await ws.send({ type: 'push.unsubscribe' });

  const final = await ws.event('push.outcome', (e) => e.outcome.ref === ref && e.outcome.result !== 'retrying');
  expect(final.outcome).toMatchObject({
    result: 'failed',
    detail: 'not sent: notifications on this device were turned off since',
  });
  expect(svc.received).toHaveLength(1);
  const summary = summarizePushes(await stepsOf(ws, ref))[0];
  expect(pushStateWords(summary)).toBe('failed: not sent: notifications on this device were turned off since');
  expect(pendingIds(td)).toEqual([]);
}, 60_000);

it('renewed, then Errand restarts before the retry: the start sends it to the new subscription', async () => {
  const td = await start(600_000); // the retry would come in ten minutes: the stop comes first
  const { ws, token, ref, pushId, threadId } = await waitingPush(td);
  const renewed = makeSubscriber();
  await ws.send({ type: 'push.subscribe', subscription: renewed.subscription });
  await td.stop();
  daemons.splice(0);
  expect(pendingIds(td)).toEqual([pushId]);

  const again = await start(1500);
  await again.daemon.idle(); // the start's resend of pending pushes has been made
  expect(requestsTo(renewed)).toHaveLength(1);
  expect(decryptPush(requestsTo(renewed)[0], renewed)).toMatchObject({ threadId, receipt: pushId });
  const ws2 = await again.connect({ token });
  expect(summarizePushes(await stepsOf(ws2, ref))[0].state).toBe('accepted');
  expect(pendingIds(again)).toEqual([]);
}, 60_000);
