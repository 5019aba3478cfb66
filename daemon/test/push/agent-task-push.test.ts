// A real agent task (the real SDK against the scripted Messages API server) finishing in a real
// daemon pushes exactly once to each subscribed device; the device that has the thread open in
// the foreground gets none, and its outcome says so.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PushOutcome } from '../../../shared/src/index.js';
import { pushRef } from '../../src/push/receipts.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import { decryptPush, FakePushService, makeSubscriber, verifyVapid } from './push-service.js';

const SUBJECT = 'mailto:owner@example.org';
let svc: FakePushService;
let model: ModelServer;
let td: TestDaemon;
let release: () => void = () => undefined;

beforeAll(async () => {
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  model = await startModelServer(async () => {
    await gate; // the test decides when the task finishes
    return reply(text('Report written: Q3-report.md\nIt covers revenue and churn, with a chart.'));
  });
  svc = await FakePushService.start();
  td = await startTestDaemon({
    config: {
      push: { subject: SUBJECT, previews: 'full' },
      anthropic: { apiKey: 'sk-test-key', baseUrl: model.url, model: 'claude-sonnet-4-6' },
    },
    push: { transport: svc.transport() },
  });
});
afterAll(async () => {
  release();
  await td.stop();
  await Promise.all([svc.close(), model.close()]);
});

it('a finished agent task pushes once per subscribed device, none to the one viewing the thread', async () => {
  const a = await td.pairDevice('Phone A');
  const b = await td.pairDevice('Phone B');
  const phoneA = await td.connect({ token: a.token });
  const phoneB = await td.connect({ token: b.token });
  const subA = makeSubscriber();
  const subB = makeSubscriber('https://web.push.apple.com/QGb');
  const { publicKey } = await phoneA.send<{ publicKey: string }>({ type: 'push.key' });
  await phoneA.send({ type: 'push.subscribe', subscription: subA.subscription });
  await phoneB.send({ type: 'push.subscribe', subscription: subB.subscription });

  const { thread, task } = await phoneA.send<{ thread: { id: string; title: string }; task: { id: string } }>({
    type: 'thread.create',
    text: 'Write the Q3 report',
  });
  await phoneB.send({ type: 'presence.set', threadId: thread.id, foreground: true });
  release();

  const outcomes = async () => await phoneA.send<PushOutcome[]>({ type: 'push.outcomes' });
  await phoneA.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
  const sent = await phoneA.event('push.outcome', (e) => e.outcome.deviceId === a.deviceId, 10_000);
  const suppressed = await phoneA.event('push.outcome', (e) => e.outcome.deviceId === b.deviceId, 10_000);
  expect(sent.outcome).toMatchObject({ result: 'accepted', kind: 'task.done', threadId: thread.id });
  expect(suppressed.outcome).toMatchObject({
    result: 'suppressed',
    kind: 'task.done',
    threadId: thread.id,
    detail: expect.stringMatching(/foreground/),
  });

  // Every push the updates started has been attempted: still only one (queued / running / done → one push, to A).
  await td.daemon.idle();
  expect(svc.received).toHaveLength(1);
  expect(svc.received[0].host).toBe('fcm.googleapis.com');
  expect(decryptPush(svc.received[0], subA)).toEqual({
    type: 'task.done',
    title: thread.title,
    body: 'Report written: Q3-report.md',
    threadId: thread.id,
    url: `/#thread=${thread.id}`,
    tag: `thread-${thread.id}`,
    receipt: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
  });
  // The event names the push by its ref, never by the id a receipt proves itself with.
  expect(sent.outcome.pushId).toBeUndefined();
  expect(sent.outcome.ref).toBe(pushRef(decryptPush(svc.received[0], subA).receipt as string));
  verifyVapid(svc.received[0].headers.authorization, subA.subscription.endpoint, { subject: SUBJECT, publicKey });
  expect((await outcomes()).map((o) => o.result)).toEqual(['accepted']);
  expect((await phoneB.send<PushOutcome[]>({ type: 'push.outcomes' })).map((o) => o.result)).toEqual(['suppressed']);
});
