// End to end through a real daemon: phones subscribe over the authenticated WebSocket, a task
// finishes, and each subscribed device gets exactly one push, unless it has that thread in the
// foreground, in which case its outcome says it was suppressed.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushOutcome, Task } from '../../../shared/src/index.js';
import { pushRef } from '../../src/push/receipts.js';
import { startTestDaemon, type TestDaemon, type TestDaemonOptions } from '../helpers/daemon.js';
import type { WsTestClient } from '../helpers/ws-client.js';
import { decryptPush, FakePushService, makeSubscriber, postReceipt, verifyVapid } from './push-service.js';

const SUBJECT = 'mailto:owner@example.org';

let svc: FakePushService;
let td: TestDaemon;

/** A test daemon whose pushes go to the fake push service. */
function startPushDaemon(opts: TestDaemonOptions = {}): Promise<TestDaemon> {
  return startTestDaemon({ ...opts, push: { transport: svc.transport() } });
}
async function stopDaemon(): Promise<void> {
  await td.stop();
}

beforeAll(async () => {
  svc = await FakePushService.start();
  td = await startPushDaemon({ config: { push: { subject: SUBJECT, previews: 'full' } } });
});
afterAll(async () => {
  await stopDaemon();
  await svc.close();
});

const task = (threadId: string, over: Partial<Task> = {}): Task => ({
  id: `tsk_${Math.random().toString(36).slice(2)}`,
  threadId,
  state: 'done',
  messageId: 'msg_1',
  createdAt: Date.now(),
  turns: 1,
  usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
  costUsd: 0,
  ...over,
});

const outcomeOf = (client: WsTestClient, pred: (o: PushOutcome) => boolean) =>
  client.event('push.outcome', (e) => pred(e.outcome)).then((e) => e.outcome);

describe('push through the daemon', () => {
  let phoneA: WsTestClient;
  let phoneB: WsTestClient;
  let laptop: WsTestClient;
  let idA: string;
  let idB: string;
  const subA = makeSubscriber();
  const subB = makeSubscriber('https://updates.push.services.mozilla.com/wpush/v2/gAAAAB');
  let publicKey: string;

  it('hands out only the public VAPID key, kept 0600 in the home folder', async () => {
    const a = await td.pairDevice('Phone A');
    const b = await td.pairDevice('Phone B');
    idA = a.deviceId;
    idB = b.deviceId;
    phoneA = await td.connect({ token: a.token });
    phoneB = await td.connect({ token: b.token });
    laptop = await td.connect();
    const reply = await phoneA.send<Record<string, unknown>>({ type: 'push.key' });
    expect(Object.keys(reply).sort()).toEqual(['publicKey', 'subscription']);
    expect(reply.subscription).toBe('none');
    publicKey = reply.publicKey as string;
    const file = td.daemon.ctx.paths.vapid;
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { publicKey: string; privateKey: string };
    expect(stored.publicKey).toBe(publicKey);
    // The private key is in no event, no reply and no log line.
    const logs = fs
      .readdirSync(td.daemon.ctx.paths.logs)
      .map((f) => fs.readFileSync(path.join(td.daemon.ctx.paths.logs, f), 'utf8'))
      .join('');
    expect(logs).not.toContain(stored.privateKey);
    expect(JSON.stringify(phoneA.frames)).not.toContain(stored.privateKey);
  });

  it('refuses endpoints outside the push services with a clear error', async () => {
    const keys = makeSubscriber().subscription.keys;
    for (const endpoint of [
      'http://fcm.googleapis.com/fcm/send/abc',
      'https://fcm.googleapis.com:8443/fcm/send/abc',
      'https://evil.com/fcm/send/abc',
      'https://fcm.googleapis.com.evil.com/fcm/send/abc',
      'https://127.0.0.1/fcm/send/abc',
    ]) {
      const err = await phoneA.send({ type: 'push.subscribe', subscription: { endpoint, keys } }).then(
        () => undefined,
        (e: Error & { code: string }) => e,
      );
      expect(err, endpoint).toBeDefined();
      expect(err!.code).toBe('bad_request');
      expect(err!.message).toMatch(/^Push endpoint refused: /);
    }
    await expect(phoneA.send({ type: 'push.test' })).rejects.toThrow(/no push subscription/);
  });

  it('a task finishing pushes exactly once to each subscribed device; the one viewing the thread is suppressed', async () => {
    expect(await phoneA.send({ type: 'push.subscribe', subscription: subA.subscription })).toEqual({
      subscribed: true,
      service: 'fcm.googleapis.com',
    });
    expect(await phoneB.send({ type: 'push.subscribe', subscription: subB.subscription })).toEqual({
      subscribed: true,
      service: 'updates.push.services.mozilla.com',
    });
    const ctx = td.daemon.ctx;
    const thread = await ctx.store.threads.create('Q3 sales report', () => undefined);
    await phoneB.send({ type: 'presence.set', threadId: thread.meta.id, foreground: true });
    await phoneA.send({ type: 'presence.set', threadId: thread.meta.id, foreground: false });

    const done = task(thread.meta.id, {
      resultSummary: 'Report written: Q3-report.md\nwith three charts',
      changedFiles: ['Projects/Q3-report.md'],
    });
    await ctx.emit({ kind: 'task.updated', task: { ...done, state: 'running' } });
    await ctx.emit({ kind: 'task.updated', task: done });
    await ctx.emit({ kind: 'task.updated', task: { ...done, costUsd: 0.01 } }); // the same change, re-announced

    const sentA = await outcomeOf(laptop, (o) => o.deviceId === idA && o.kind === 'task.done');
    const suppressedB = await outcomeOf(laptop, (o) => o.deviceId === idB && o.kind === 'task.done');
    expect(sentA).toMatchObject({ result: 'accepted', status: 201, threadId: thread.meta.id });
    expect(suppressedB).toMatchObject({
      result: 'suppressed',
      threadId: thread.meta.id,
      detail: expect.stringMatching(/foreground/),
    });

    await td.daemon.idle(); // every push those updates started has been attempted: a duplicate would be here
    expect(svc.received).toHaveLength(1);
    const push = svc.received[0];
    expect(push.host).toBe('fcm.googleapis.com');
    expect(decryptPush(push, subA)).toEqual({
      type: 'task.done',
      title: 'Q3 sales report',
      body: 'Report written: Q3-report.md',
      threadId: thread.meta.id,
      url: `/#thread=${thread.meta.id}`,
      tag: `thread-${thread.meta.id}`,
      receipt: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
    });
    expect(sentA.pushId).toBeUndefined();
    expect(sentA.ref).toBe(pushRef(decryptPush(push, subA).receipt as string));
    verifyVapid(push.headers.authorization, subA.subscription.endpoint, { subject: SUBJECT, publicKey });
    expect(laptop.events().filter((e) => e.event.kind === 'push.outcome')).toHaveLength(2);

    // Each device reads its own recent outcomes.
    expect(await phoneA.send<PushOutcome[]>({ type: 'push.outcomes' })).toEqual([sentA]);
    expect(await phoneB.send<PushOutcome[]>({ type: 'push.outcomes' })).toEqual([suppressedB]);
  });

  it('approvals and questions push too, each once, collapsed under the thread tag', async () => {
    const ctx = td.daemon.ctx;
    const thread = await ctx.store.threads.create('Charts', () => undefined);
    const before = svc.received.length;
    const approval = {
      id: 'apr_e2e',
      taskId: 'tsk_x',
      threadId: thread.meta.id,
      tool: 'shell',
      summary: 'Run python make_chart.py',
      action: { argv: ['python', 'make_chart.py'] },
      hash: 'abc',
      createdAt: Date.now(),
      expiresAt: Date.now() + 600_000,
      state: 'pending' as const,
    };
    await ctx.emit({ kind: 'approval.requested', approval });
    await ctx.emit({ kind: 'approval.requested', approval });
    await ctx.emit({
      kind: 'question.asked',
      question: {
        id: 'q_e2e',
        taskId: 'tsk_x',
        threadId: thread.meta.id,
        text: 'Which quarter?',
        createdAt: Date.now(),
      },
    });
    await svc.waitFor(before + 4); // A and B each get both (B views another thread)
    await td.daemon.idle();
    const got = svc.received.slice(before);
    expect(got).toHaveLength(4);
    const payloads = got.map((p) => decryptPush(p, p.path.startsWith('/fcm/') ? subA : subB));
    expect(payloads.map((p) => p.type).sort()).toEqual(['approval', 'approval', 'question', 'question']);
    for (const p of payloads)
      expect(p).toMatchObject({ tag: `thread-${thread.meta.id}`, url: `/#thread=${thread.meta.id}` });
    expect(payloads.find((p) => p.type === 'approval')).toMatchObject({
      body: 'Run python make_chart.py',
      title: 'Needs your OK · Charts',
    });
    expect(got.every((p) => p.headers.urgency === 'high')).toBe(true);
  });

  it('push.test sends a test push to the calling device only, and reports it delivered once the device says so', async () => {
    const before = svc.received.length;
    const replied = phoneB.send<PushOutcome>({ type: 'push.test' });
    await svc.waitFor(before + 1);
    const payload = decryptPush(svc.received[before], subB);
    expect(payload).toMatchObject({ type: 'test', url: '/', receipt: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) });
    expect((await postReceipt(td.url, { pushId: payload.receipt, state: 'delivered' })).status).toBe(200);
    const outcome = await replied;
    expect(outcome).toMatchObject({
      deviceId: idB,
      kind: 'test',
      result: 'delivered',
      ref: pushRef(payload.receipt as string),
    });
    expect(outcome.pushId).toBeUndefined();
    expect(svc.received).toHaveLength(before + 1);
    await expect(phoneB.send({ type: 'push.test' })).rejects.toThrow(/wait a few seconds/);
  });

  it("a gone subscription (410) is removed; a revoked device's subscription is dropped", async () => {
    const ctx = td.daemon.ctx;
    const thread = await ctx.store.threads.create('Cleanup', () => undefined);
    svc.respond = (req) => (req.path.startsWith('/wpush/') ? { status: 410 } : { status: 201 });
    const before = svc.received.length;
    await ctx.emit({
      kind: 'task.updated',
      task: task(thread.meta.id, { state: 'failed', reason: 'The disk is full.' }),
    });
    const removed = await outcomeOf(laptop, (o) => o.deviceId === idB && o.result === 'removed');
    expect(removed).toMatchObject({ status: 410, kind: 'task.failed' });
    await svc.waitFor(before + 2);
    const failedPush = svc.received.slice(before).find((p) => p.path.startsWith('/fcm/'))!;
    expect(decryptPush(failedPush, subA)).toMatchObject({
      type: 'task.failed',
      title: 'Failed · Cleanup',
      body: 'The disk is full.',
    });
    await expect(phoneB.send({ type: 'push.test' })).rejects.toThrow(/no push subscription/);
    svc.respond = () => ({ status: 201 });

    await laptop.send({ type: 'device.revoke', deviceId: idA });
    await phoneA.waitClosed();
    const count = svc.received.length;
    await ctx.emit({ kind: 'task.updated', task: task(thread.meta.id) });
    await td.daemon.idle();
    expect(svc.received).toHaveLength(count);
    const stored = () =>
      (JSON.parse(fs.readFileSync(path.join(ctx.paths.store, 'push.json'), 'utf8')) as { subscriptions: unknown[] })
        .subscriptions;
    await expect.poll(stored).toEqual([]);
  });

  it('subscriptions, keys and outcomes survive a restart', async () => {
    const home = td.home;
    const b = await td.pairDevice('Phone C');
    const phoneC = await td.connect({ token: b.token });
    const subC = makeSubscriber('https://web.push.apple.com/QGabc');
    await phoneC.send({ type: 'push.subscribe', subscription: subC.subscription });
    await stopDaemon();

    td = await startPushDaemon({ home });
    const again = await td.connect({ token: b.token });
    expect(await again.send({ type: 'push.key' })).toEqual({ publicKey, subscription: 'current' });
    // Asked about the browser's own endpoint: the same one is current; a browser that moved to another is not held.
    expect(await again.send({ type: 'push.key', endpoint: subC.subscription.endpoint })).toMatchObject({
      subscription: 'current',
    });
    expect(await again.send({ type: 'push.key', endpoint: 'https://web.push.apple.com/QGother' })).toMatchObject({
      subscription: 'none',
    });
    const before = svc.received.length;
    const thread = await td.daemon.ctx.store.threads.create('After restart', () => undefined);
    await td.daemon.ctx.emit({ kind: 'task.updated', task: task(thread.meta.id, { resultSummary: 'All done.' }) });
    await svc.waitFor(before + 1);
    expect(decryptPush(svc.received[before], subC)).toMatchObject({
      type: 'task.done',
      title: 'After restart',
      body: 'All done.',
    });
    const outcomes = await again.send<PushOutcome[]>({ type: 'push.outcomes' });
    expect(outcomes.at(-1)).toMatchObject({ result: 'accepted', kind: 'task.done' });
  });
  it('replaced push keys: no request on the old subscription, the device is told to renew, and renewing works', async () => {
    const home = td.home;
    const d = await td.pairDevice('Phone D');
    const phoneD = await td.connect({ token: d.token });
    const subD = makeSubscriber('https://web.push.apple.com/QGdef');
    await phoneD.send({ type: 'push.subscribe', subscription: subD.subscription });
    await stopDaemon();

    // The owner replaces vapid.json (say, restored from elsewhere): every existing subscription is now stale.
    const webpush = (await import('web-push')).default;
    const fresh = webpush.generateVAPIDKeys();
    fs.writeFileSync(
      path.join(home, 'vapid.json'),
      JSON.stringify({ schema: 1, publicKey: fresh.publicKey, privateKey: fresh.privateKey, createdAt: Date.now() }),
      { mode: 0o600 },
    );
    td = await startPushDaemon({ home });
    const again = await td.connect({ token: d.token });
    expect(await again.send({ type: 'push.key' })).toEqual({ publicKey: fresh.publicKey, subscription: 'stale' });
    const logs = () =>
      fs
        .readdirSync(td.daemon.ctx.paths.logs)
        .map((f) => fs.readFileSync(path.join(td.daemon.ctx.paths.logs, f), 'utf8'))
        .join('');
    expect(logs()).toMatch(/push keys changed/);

    const before = svc.received.length;
    const thread = await td.daemon.ctx.store.threads.create('Old keys', () => undefined);
    const failed = outcomeOf(again, (o) => o.deviceId === d.deviceId && o.result === 'failed');
    await td.daemon.ctx.emit({ kind: 'task.updated', task: task(thread.meta.id, { resultSummary: 'Done.' }) });
    expect((await failed).detail).toMatch(/open Errand on this device once to renew/);
    expect(svc.received.slice(before).filter((p) => p.path.includes('QGdef'))).toEqual([]);

    // What the app does when it opens: subscribe again with the new key.
    await again.send({ type: 'push.subscribe', subscription: subD.subscription });
    expect(await again.send({ type: 'push.key' })).toEqual({ publicKey: fresh.publicKey, subscription: 'current' });
    const n = svc.received.length;
    await td.daemon.ctx.emit({
      kind: 'task.updated',
      task: task(thread.meta.id, { id: 'tsk_renewed', resultSummary: 'Done again.' }),
    });
    await svc.waitFor(n + 1);
    const got = svc.received.slice(n).find((p) => p.path.includes('QGdef'))!;
    expect(decryptPush(got, subD)).toMatchObject({ type: 'task.done', body: 'Done again.' });
    verifyVapid(got.headers.authorization, subD.subscription.endpoint, {
      subject: SUBJECT,
      publicKey: fresh.publicKey,
    });
  });
});
