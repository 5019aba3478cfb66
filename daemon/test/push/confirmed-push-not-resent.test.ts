// A push service can take a push, pass it on, and still answer with a server error (or answer after the
// phone already showed it). The phone's `delivered` receipt then says the push arrived: the retry that
// the error scheduled is not made (a second buzz for the same news), and the receipt's write settles the
// push (no longer pending in push.json). A real daemon, the real https transport, the fake push service;
// the transport's answers can be held back to let the receipt come first.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type PushOutcome, summarizePushes } from '../../../shared/src/index.js';
import type { PushTransport } from '../../src/push/transport.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import type { WsTestClient } from '../helpers/ws-client.js';
import { decryptPush, FakePushService, makeSubscriber, postReceipt } from './push-service.js';

let svc: FakePushService;
let model: ModelServer;
let td: TestDaemon;
let phone: WsTestClient;
const sub = makeSubscriber();
/** While set, the push service's next answer reaches the daemon only once this resolves. */
let holdAnswer: Promise<void> | undefined;

beforeAll(async () => {
  model = await startModelServer(() => reply(text('All done.')));
  svc = await FakePushService.start();
  const real = svc.transport();
  const transport: PushTransport = async (req) => {
    const res = await real(req);
    const held = holdAnswer;
    holdAnswer = undefined;
    if (held) await held;
    return res;
  };
  td = await startTestDaemon({
    config: { anthropic: { apiKey: 'sk-test-key', baseUrl: model.url, model: 'claude-sonnet-4-6' } },
    // The retry comes after 1.2–1.8 s: time enough for a receipt posted at once to be first.
    push: { transport, retry: { baseDelayMs: 1500 } },
  });
  const { token } = await td.pairDevice('Phone');
  phone = await td.connect({ token });
  await phone.send({ type: 'push.subscribe', subscription: sub.subscription });
}, 60_000);
afterAll(async () => {
  await td?.stop();
  await Promise.all([svc?.close(), model?.close()]);
  if (td) fs.rmSync(td.home, { recursive: true, force: true });
});

const pendingIds = () =>
  (
    JSON.parse(fs.readFileSync(path.join(td.daemon.ctx.paths.store, 'push.json'), 'utf8')) as {
      pending: Array<{ pushId: string }>;
    }
  ).pending.map((p) => p.pushId);

/** How often the daemon's log says a retry was not made because the device had confirmed the push. */
const confirmedRetries = () =>
  fs
    .readFileSync(path.join(td.daemon.ctx.paths.logs, 'daemon.log'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('push not sent again: the device confirmed it meanwhile')).length;

/**
 * Wait until the retry's time has come: the daemon says it skipped it, or a second request for the push
 * arrived after the first (the defect). Either ends the wait; the test then says which.
 */
async function retryTimeCame(before: { requests: number; skipped: number }): Promise<void> {
  await expect
    .poll(() => confirmedRetries() > before.skipped || svc.received.length > before.requests + 1, {
      timeout: 10_000,
    })
    .toBe(true);
}

async function doneTask(words: string): Promise<string> {
  const { thread } = await phone.send<{ thread: { id: string } }>({ type: 'thread.create', text: words });
  return thread.id;
}

it('a 502 after the push went through, then the phone\'s receipt: the retry is not made; "delivered"', async () => {
  let n = 0;
  svc.respond = () => (++n === 1 ? { status: 502 } : { status: 201 });
  const before = { requests: svc.received.length, skipped: confirmedRetries() };
  const threadId = await doneTask('Tidy the notes');
  const waiting = await phone.event(
    'push.outcome',
    (e) => e.outcome.threadId === threadId && e.outcome.result === 'retrying',
    20_000,
  );
  const pushId = decryptPush(svc.received[before.requests], sub).receipt as string;
  expect(pendingIds()).toContain(pushId);

  // The service worker showed it and says so; the answer comes once the receipt is durable.
  expect((await postReceipt(td.url, { pushId, state: 'delivered', at: Date.now() })).status).toBe(200);
  expect(pendingIds()).not.toContain(pushId); // settled in the receipt's own write

  await retryTimeCame(before);
  expect(svc.received.length - before.requests).toBe(1);
  const steps = (await phone.send<PushOutcome[]>({ type: 'push.outcomes' })).filter(
    (o) => o.ref === waiting.outcome.ref,
  );
  expect(summarizePushes(steps)[0]).toMatchObject({ state: 'delivered' });
}, 60_000);

it("the receipt comes before the push service's 502 does: the retry it schedules is not made", async () => {
  svc.respond = () => ({ status: 502 });
  let answer!: () => void;
  holdAnswer = new Promise<void>((resolve) => {
    answer = resolve;
  });
  const before = { requests: svc.received.length, skipped: confirmedRetries() };
  const threadId = await doneTask('Sort the receipts');
  await svc.waitFor(before.requests + 1, 20_000);
  const pushId = decryptPush(svc.received[before.requests], sub).receipt as string;
  expect((await postReceipt(td.url, { pushId, state: 'delivered', at: Date.now() })).status).toBe(200);

  // Only now does the daemon read the 502: it schedules a retry, which must find the receipt.
  svc.respond = () => ({ status: 201 });
  answer();
  const waiting = await phone.event(
    'push.outcome',
    (e) => e.outcome.threadId === threadId && e.outcome.result === 'retrying',
    20_000,
  );
  await retryTimeCame(before);
  expect(svc.received.length - before.requests).toBe(1);
  expect(pendingIds()).not.toContain(pushId);
  const steps = (await phone.send<PushOutcome[]>({ type: 'push.outcomes' })).filter(
    (o) => o.ref === waiting.outcome.ref,
  );
  expect(summarizePushes(steps)[0]).toMatchObject({ state: 'delivered' });
}, 60_000);
