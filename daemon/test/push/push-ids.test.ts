// A push's id is the proof its receipt holds, so it goes only inside that device's encrypted push.
// push.outcome events reach every paired device (and stay in the journal for replay): they name the
// push by a ref that proves nothing. Another device that reads the events cannot post "opened" for
// the push and so cannot stop its escalation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushOutcome } from '../../../shared/src/index.js';
import { pushRef } from '../../src/push/receipts.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { decryptPush, FakePushService, makeSubscriber, postReceipt } from './push-service.js';

let svc: FakePushService;
let td: TestDaemon;
beforeAll(async () => {
  svc = await FakePushService.start();
  td = await startTestDaemon({
    config: { push: { subject: 'mailto:owner@example.org' } },
    push: { transport: svc.transport() },
  });
});
afterAll(async () => {
  await td.stop();
  await svc.close();
});

describe('push ids', () => {
  it("no other device learns a push's id, from live events, replayed events or replies", async () => {
    const ctx = td.daemon.ctx;
    const subA = makeSubscriber('https://web.push.apple.com/QGidsA');
    const a = await td.pairDevice('iPhone');
    const b = await td.pairDevice('Pixel');
    const phoneA = await td.connect({ token: a.token });
    const phoneB = await td.connect({ token: b.token });
    await phoneA.send({ type: 'push.subscribe', subscription: subA.subscription });
    const thread = await ctx.store.threads.create('Report', () => undefined);
    await ctx.emit({
      kind: 'question.asked',
      question: { id: 'q_ids', taskId: 'tsk_ids', threadId: thread.meta.id, text: 'Which one?', createdAt: Date.now() },
    });
    await svc.waitFor(1);
    const pushId = decryptPush(svc.received[0], subA).receipt as string;
    expect(pushId).toMatch(/^[A-Za-z0-9_-]{22}$/);

    // B sees that A was pushed, named by its ref only.
    const seen = await phoneB.event('push.outcome', (e) => e.outcome.deviceId === a.deviceId);
    expect(seen.outcome).toMatchObject({ result: 'accepted', kind: 'question', ref: pushRef(pushId) });
    expect(seen.outcome.pushId).toBeUndefined();
    // A's receipt is taken, and its event is named the same way.
    const delivered = phoneB.event('push.outcome', (e) => e.outcome.result === 'delivered');
    expect((await postReceipt(td.url, { pushId, state: 'delivered' })).status).toBe(200);
    expect((await delivered).outcome).toMatchObject({ deviceId: a.deviceId, ref: pushRef(pushId) });
    await td.daemon.idle();

    // The ref is no proof: "opened" posted with it is refused, and A's push stays delivered.
    expect((await postReceipt(td.url, { pushId: pushRef(pushId), state: 'opened' })).status).toBe(404);
    const mine = await phoneA.send<PushOutcome[]>({ type: 'push.outcomes' });
    expect(mine.map((o) => o.result)).toEqual(['accepted', 'delivered']);
    expect(mine.every((o) => o.ref === pushRef(pushId) && o.pushId === undefined)).toBe(true);

    // Nowhere in what B got, nor in what a device replaying the journal from the start gets.
    const replay = await td.connect({ token: b.token, lastSeq: 0 });
    await replay.send({ type: 'push.outcomes' });
    expect(replay.events().filter((e) => e.event.kind === 'push.outcome')).toHaveLength(2);
    for (const client of [phoneB, replay]) expect(JSON.stringify(client.frames)).not.toContain(pushId);
  });
});
