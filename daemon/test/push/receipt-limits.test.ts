// The owner always gets in: behind Tailscale Serve every request comes from 127.0.0.1, so made-up
// receipts from anyone else use up that address's failure budget. A real receipt (a push id the
// daemon sent) is still taken and stops the escalation; only unknown ids are counted and held back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval, PushOutcome } from '../../../shared/src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { decryptPush, FakePushService, makeSubscriber, postReceipt } from './push-service.js';

const until = async (cond: () => boolean, timeoutMs = 20_000) => {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
};

let svc: FakePushService;
let td: TestDaemon;
beforeAll(async () => {
  svc = await FakePushService.start();
  td = await startTestDaemon({
    config: { push: { subject: 'mailto:owner@example.org', escalateAfterMinutes: 0.02 } }, // 1.2 s
    push: { transport: svc.transport() },
  });
});
afterAll(async () => {
  await td.stop();
  await svc.close();
});

describe('receipts and the failure limiter', () => {
  it("a real receipt is taken after made-up ones used up the address's budget, and the approval does not escalate", async () => {
    const ctx = td.daemon.ctx;
    const subA = makeSubscriber('https://web.push.apple.com/QGlimitA');
    const subB = makeSubscriber('https://fcm.googleapis.com/fcm/send/limitB');
    const a = await td.pairDevice('iPhone');
    const b = await td.pairDevice('Pixel');
    const phoneA = await td.connect({ token: a.token });
    const phoneB = await td.connect({ token: b.token });
    await phoneA.send({ type: 'push.subscribe', subscription: subA.subscription });
    await phoneB.send({ type: 'push.subscribe', subscription: subB.subscription });
    const thread = await ctx.store.threads.create('Deploy', () => undefined);
    // The Pixel shows the thread, so only the iPhone gets the push; escalation would go to the Pixel.
    await phoneB.send({ type: 'presence.set', threadId: thread.meta.id, foreground: true });
    const toA = () => svc.received.filter((p) => p.path.includes('QGlimitA'));
    const toB = () => svc.received.filter((p) => p.path.includes('limitB'));

    // Someone else on the same address (everything behind the proxy is 127.0.0.1) posts made-up ids.
    const bogus = [];
    for (let i = 0; i < 11; i++)
      bogus.push((await postReceipt(td.url, { pushId: 'A'.repeat(22), state: 'opened' })).status);
    expect(bogus).toEqual([...Array(10).fill(404), 429]);

    const approval = (id: string): Approval => ({
      id,
      taskId: 'tsk_lim',
      threadId: thread.meta.id,
      tool: 'shell',
      summary: 'Run echo hi',
      action: { argv: ['echo', 'hi'] },
      hash: `h_${id}`,
      createdAt: Date.now(),
      expiresAt: Date.now() + 600_000,
      state: 'pending',
    });
    await ctx.emit({ kind: 'approval.requested', approval: approval('apr_shown') });
    await until(() => toA().length === 1);
    const shown = decryptPush(toA()[0], subA);
    // The iPhone showed it: its receipt is taken although the address is over its failure budget.
    expect(await postReceipt(td.url, { pushId: shown.receipt, state: 'delivered' })).toEqual({
      status: 200,
      body: { ok: true },
    });
    // Unknown ids are still held back.
    expect((await postReceipt(td.url, { pushId: 'B'.repeat(22), state: 'delivered' })).status).toBe(429);

    // A second approval, in another thread the Pixel now shows, that nobody confirms: it escalates to
    // the Pixel. Its clock started later than the first one's, so the first would have escalated
    // before it, had the receipt been refused.
    const other = await ctx.store.threads.create('Backup', () => undefined);
    await phoneB.send({ type: 'presence.set', threadId: other.meta.id, foreground: true });
    await ctx.emit({ kind: 'approval.requested', approval: { ...approval('apr_unseen'), threadId: other.meta.id } });
    await until(() => toB().some((p) => decryptPush(p, subB).threadId === other.meta.id));
    await td.daemon.idle();
    // No message tells whether the person named the thread "Backup": private pushes leave it out.
    expect(toB().map((p) => decryptPush(p, subB).title)).toEqual(['Needs your OK · Errand task']);
    const outcomes = await phoneA.send<PushOutcome[]>({ type: 'push.outcomes' });
    expect(outcomes.filter((o) => o.result === 'escalated').map((o) => o.threadId)).toEqual([other.meta.id]);
    expect(outcomes.filter((o) => o.result === 'delivered').map((o) => o.threadId)).toEqual([thread.meta.id]);
  }, 30_000);
});
