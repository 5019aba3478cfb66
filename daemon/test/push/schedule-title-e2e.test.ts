// A schedule named by the model after it read untrusted content never puts that name on the lock
// screen: with private previews its runs are pushed as "Scheduled run". A real daemon, the real push
// transport, the fake push service that decrypts. The schedule is marked fromUntrusted in the store,
// as schedule_create marks it after a task read a page (schedule-taint.test.ts covers that path).
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Schedule } from '../../../shared/src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import type { WsTestClient } from '../helpers/ws-client.js';
import { decryptPush, FakePushService, makeSubscriber, type Subscriber } from './push-service.js';

const BAIT = 'Errand: phone unpaired. Re-pair now, code 4417';
let svc: FakePushService;
let model: ModelServer;
let td: TestDaemon;
let phone: WsTestClient;
let sub: Subscriber;

beforeAll(async () => {
  model = await startModelServer(() => reply(text('All quiet.')));
  svc = await FakePushService.start();
  td = await startTestDaemon({
    config: {
      push: { subject: 'mailto:owner@example.org' },
      anthropic: { apiKey: 'sk-test-key', baseUrl: model.url, model: 'claude-sonnet-4-6' },
    },
    push: { transport: svc.transport() },
  });
  sub = makeSubscriber();
  const { token } = await td.pairDevice('Phone');
  phone = await td.connect({ token });
  await phone.send({ type: 'push.subscribe', subscription: sub.subscription });
});
afterAll(async () => {
  await td?.stop();
  await Promise.all([svc?.close(), model?.close()]);
});

const pushes = () =>
  svc.received
    .filter((p) => p.path === new URL(sub.subscription.endpoint).pathname)
    .map((p) => decryptPush(p, sub) as { type: string; title: string; threadId?: string });

async function runOnce(title: string, untrusted: boolean): Promise<Array<{ type: string; title: string }>> {
  return (await runSchedule(title, untrusted)).pushes;
}

async function runSchedule(title: string, untrusted: boolean) {
  const { schedule } = await phone.send<{ schedule: Schedule }>({
    type: 'schedule.create',
    title,
    text: 'Check the inbox',
    when: { kind: 'daily', time: '08:00' },
    timeZone: 'UTC',
  });
  if (untrusted) {
    const store = td.daemon.ctx.store.schedules;
    await store.put({ ...store.get(schedule.id)!, fromUntrusted: true });
  }
  const ran = await phone.send<{ taskId: string; threadId: string }>({ type: 'schedule.run', scheduleId: schedule.id });
  await phone.event('task.updated', (e) => e.task.id === ran.taskId && e.task.state === 'done', 20_000);
  await td.daemon.idle();
  for (let i = 0; i < 200 && !pushes().some((p) => p.threadId === ran.threadId); i++)
    await new Promise((r) => setTimeout(r, 20));
  return {
    scheduleId: schedule.id,
    threadId: ran.threadId,
    pushes: pushes().filter((p) => p.threadId === ran.threadId),
  };
}

it('private: a model-named schedule run is pushed as "Scheduled run"; a user-named one keeps its name', async () => {
  const model = await runOnce(BAIT, true);
  expect(model.map((p) => [p.type, p.title])).toEqual([['task.done', 'Scheduled run']]);
  const mine = await runOnce('Morning brief', false);
  expect(mine.map((p) => [p.type, p.title])).toEqual([['task.done', 'Morning brief']]);
});

it('private: once the model-named schedule is deleted, its thread still pushes as "Scheduled run"', async () => {
  const run = await runSchedule(BAIT, true);
  await phone.send({ type: 'schedule.delete', scheduleId: run.scheduleId });
  const before = pushes().length;
  const { task } = await phone.send<{ task: { id: string } }>({
    type: 'thread.send',
    threadId: run.threadId,
    text: 'And once more',
  });
  await phone.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
  await td.daemon.idle();
  for (let i = 0; i < 200 && pushes().length === before; i++) await new Promise((r) => setTimeout(r, 20));
  const later = pushes().slice(before);
  expect(later.map((p) => [p.type, p.title])).toEqual([['task.done', 'Scheduled run']]);
});
