// A task that fails, is retried and fails again is news twice: each ending of a run gets its own
// push (and a retry that then finishes gets its "done"), while the same ending announced again
// (a later task.updated for it) still pushes once. Real agent runs against the scripted Messages API.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PushOutcome, Task } from '../../../shared/src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, type ScriptReply, startModelServer, text } from '../helpers/model-server.js';
import { decryptPush, FakePushService, makeSubscriber } from './push-service.js';

let svc: FakePushService;
let model: ModelServer;
let td: TestDaemon;
/** What the model answers next: a refusal the agent does not retry, until the test says otherwise. */
let answer: ScriptReply = { kind: 'status', status: 400, errorType: 'invalid_request_error', message: 'bad request' };

beforeAll(async () => {
  model = await startModelServer(() => answer);
  svc = await FakePushService.start();
  td = await startTestDaemon({
    config: {
      push: { subject: 'mailto:owner@example.org' },
      anthropic: { apiKey: 'sk-test-key', baseUrl: model.url, model: 'claude-sonnet-4-6' },
    },
    push: { transport: svc.transport() },
  });
});
afterAll(async () => {
  await td.stop();
  await Promise.all([svc.close(), model.close()]);
});

it('a retried task that fails again is pushed again; a retry that finishes pushes "done"', async () => {
  const sub = makeSubscriber('https://web.push.apple.com/QGretry');
  const { token } = await td.pairDevice('iPhone');
  const phone = await td.connect({ token });
  await phone.send({ type: 'push.subscribe', subscription: sub.subscription });
  const ended = (id: string, state: Task['state'], after: number) =>
    phone.event('task.updated', (e) => e.task.id === id && e.task.state === state && (e.task.endedAt ?? 0) > after);

  const { task } = await phone.send<{ task: Task }>({ type: 'thread.create', text: 'Summarise the report' });
  const first = (await ended(task.id, 'failed', 0)).task;
  await svc.waitFor(1, 10_000);

  await phone.send({ type: 'task.retry', taskId: task.id });
  const second = (await ended(task.id, 'failed', first.endedAt!)).task;
  await svc.waitFor(2, 10_000);

  answer = reply(text('Summary: all good.'));
  await phone.send({ type: 'task.retry', taskId: task.id });
  await ended(task.id, 'done', second.endedAt!);
  await svc.waitFor(3, 10_000);

  // The last ending announced again (as a cost update would): no new push.
  await td.daemon.ctx.emit({ kind: 'task.updated', task: { ...second } });
  await td.daemon.idle();
  expect(svc.received.map((p) => decryptPush(p, sub).type)).toEqual(['task.failed', 'task.failed', 'task.done']);
  const outcomes = await phone.send<PushOutcome[]>({ type: 'push.outcomes' });
  expect(outcomes.map((o) => `${o.kind}:${o.result}`)).toEqual([
    'task.failed:accepted',
    'task.failed:accepted',
    'task.done:accepted',
  ]);
}, 60_000);
