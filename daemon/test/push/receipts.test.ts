// Proof of arrival through a real daemon: each push carries its id inside the encrypted body; the
// service worker posts it back (delivered, opened) to /api/push/receipt, the daemon records each step
// once per push and device, refuses ids it never sent, keeps receipts working across a restart (a
// receipt that waited on the phone while the computer was off), and "Send test push" waits for it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PushOutcome, summarizePushes } from '../../../shared/src/index.js';
import { pushRef } from '../../src/push/receipts.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import type { WsTestClient } from '../helpers/ws-client.js';
import { decryptPush, FakePushService, makeSubscriber, postReceipt } from './push-service.js';

let svc: FakePushService;
let td: TestDaemon;
let phone: WsTestClient;
let deviceId: string;
let token: string;
const sub = makeSubscriber('https://web.push.apple.com/QGreceipts');

beforeAll(async () => {
  svc = await FakePushService.start();
  td = await startTestDaemon({
    config: { push: { subject: 'mailto:owner@example.org' } },
    push: { transport: svc.transport() },
  });
  ({ deviceId, token } = await td.pairDevice('iPhone'));
  phone = await td.connect({ token });
  await phone.send({ type: 'push.subscribe', subscription: sub.subscription });
});
afterAll(async () => {
  await td.stop();
  await svc.close();
});

async function askQuestion(id: string): Promise<{ threadId: string; receipt: string }> {
  const ctx = td.daemon.ctx;
  const thread = await ctx.store.threads.create(`Thread ${id}`, () => undefined);
  const before = svc.received.length;
  await ctx.emit({
    kind: 'question.asked',
    question: { id, taskId: 'tsk_r', threadId: thread.meta.id, text: 'Which folder?', createdAt: Date.now() },
  });
  await svc.waitFor(before + 1);
  const payload = decryptPush(svc.received[before], sub);
  expect(payload.receipt).toMatch(/^[A-Za-z0-9_-]{22}$/);
  return { threadId: thread.meta.id, receipt: payload.receipt as string };
}

const outcomesOf = async (pushId: string) =>
  (await phone.send<PushOutcome[]>({ type: 'push.outcomes' })).filter((o) => o.ref === pushRef(pushId));

describe('push receipts', () => {
  it('records accepted → delivered → opened once each, and refuses what it never sent', async () => {
    const { threadId, receipt } = await askQuestion('q_r1');
    await td.daemon.idle();
    const delivered = phone.event('push.outcome', (e) => e.outcome.result === 'delivered');
    expect(await postReceipt(td.url, { pushId: receipt, state: 'delivered' })).toEqual({
      status: 200,
      body: { ok: true },
    });
    expect((await delivered).outcome).toMatchObject({ deviceId, ref: pushRef(receipt), kind: 'question', threadId });
    expect((await postReceipt(td.url, { pushId: receipt, state: 'opened' })).status).toBe(200);
    // The same receipt again (a queued copy sent twice) is fine, and recorded once.
    expect((await postReceipt(td.url, { pushId: receipt, state: 'delivered' })).status).toBe(200);
    await td.daemon.idle();
    expect((await outcomesOf(receipt)).map((o) => o.result)).toEqual(['accepted', 'delivered', 'opened']);
    const [summary] = summarizePushes(await outcomesOf(receipt));
    expect(summary).toMatchObject({ ref: pushRef(receipt), deviceId, state: 'opened', kind: 'question' });
    expect(summary.acceptedAt).toBeLessThanOrEqual(summary.deliveredAt!);
    expect(summary.deliveredAt).toBeLessThanOrEqual(summary.openedAt!);

    // Ids it never sent, malformed bodies, and other sites are refused.
    expect((await postReceipt(td.url, { pushId: 'AAAAAAAAAAAAAAAAAAAAAA', state: 'delivered' })).status).toBe(404);
    expect((await postReceipt(td.url, { pushId: receipt, state: 'read' })).status).toBe(400);
    expect((await postReceipt(td.url, { pushId: 'short', state: 'delivered' })).status).toBe(400);
    expect((await postReceipt(td.url, { pushId: receipt, state: 'opened' }, 'https://evil.example.com')).status).toBe(
      403,
    );
  });

  it('a receipt that waited on the phone while the computer was off is taken after the restart, with its time', async () => {
    const { receipt } = await askQuestion('q_r2');
    await td.daemon.idle();
    const shownAt = Date.now();
    const home = td.home;
    await td.stop();
    td = await startTestDaemon({ home, push: { transport: svc.transport() } });
    phone = await td.connect({ token });
    expect((await postReceipt(td.url, { pushId: receipt, state: 'delivered', at: shownAt })).status).toBe(200);
    await td.daemon.idle();
    const steps = await outcomesOf(receipt);
    expect(steps.map((o) => o.result)).toEqual(['accepted', 'delivered']);
    expect(steps[1].at).toBe(shownAt);
  });

  it('Send test push says when the device did not confirm within 10 s', async () => {
    const before = svc.received.length;
    const started = Date.now();
    const outcome = await phone.send<PushOutcome>({ type: 'push.test' }, undefined, 20_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_900);
    expect(svc.received).toHaveLength(before + 1);
    expect(outcome).toMatchObject({ deviceId, kind: 'test', result: 'accepted', status: 201 });
    expect(outcome.detail).toMatch(/did not confirm it within 10 s/);
  }, 30_000);
});
