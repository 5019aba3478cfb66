// A push the push service holds back for a moment (429 with Retry-After, a server error) has not
// failed: it is recorded and shown as waiting to be sent again, and then as accepted. Only a push
// that will not be tried again is `failed`. A real daemon, the real push transport, the fake push
// service answering 429 (then 500) to the first request.
import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type PushOutcome, pushStateWords, summarizePushes } from '../../../shared/src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import type { WsTestClient } from '../helpers/ws-client.js';
import { FakePushService, makeSubscriber } from './push-service.js';

let svc: FakePushService;
let model: ModelServer;
let td: TestDaemon;
let phone: WsTestClient;

beforeAll(async () => {
  model = await startModelServer(() => reply(text('All done.')));
  svc = await FakePushService.start();
  td = await startTestDaemon({
    config: {
      push: { subject: 'mailto:owner@example.org' },
      anthropic: { apiKey: 'sk-test-key', baseUrl: model.url, model: 'claude-sonnet-4-6' },
    },
    push: { transport: svc.transport(), retry: { baseDelayMs: 300 } },
  });
  const { token } = await td.pairDevice('Phone');
  phone = await td.connect({ token });
  await phone.send({ type: 'push.subscribe', subscription: makeSubscriber().subscription });
}, 60_000);
afterAll(async () => {
  await td?.stop();
  await Promise.all([svc?.close(), model?.close()]);
  if (td) fs.rmSync(td.home, { recursive: true, force: true });
});

/** Start a task whose done push meets `first` from the push service; every step of that push until it is accepted. */
async function stepsOfDonePush(first: { status: number; headers?: Record<string, string> }): Promise<PushOutcome[]> {
  let n = 0;
  svc.respond = () => (++n === 1 ? first : { status: 201 });
  const steps: PushOutcome[] = [];
  const { thread } = await phone.send<{ thread: { id: string } }>({ type: 'thread.create', text: 'Tidy the notes' });
  const mine = (o: PushOutcome) => o.threadId === thread.id && o.kind === 'task.done';
  const waiting = await phone.event('push.outcome', (e) => mine(e.outcome), 20_000);
  steps.push(waiting.outcome);
  // While it waits, the device's notification settings read it as waiting, not as failed.
  const words = pushStateWords(summarizePushes(steps)[0]);
  expect(words).toMatch(/^not sent yet: /);
  expect(words).not.toMatch(/failed/);
  const accepted = await phone.event(
    'push.outcome',
    (e) => mine(e.outcome) && e.outcome.result === 'accepted' && e.outcome.ref === waiting.outcome.ref,
    10_000,
  );
  steps.push(accepted.outcome);
  return steps;
}

it('429 with Retry-After: recorded as retrying, then accepted; never failed', async () => {
  const steps = await stepsOfDonePush({ status: 429, headers: { 'retry-after': '1' } });
  expect(steps.map((o) => [o.result, o.status])).toEqual([
    ['retrying', 429],
    ['accepted', 201],
  ]);
  expect(steps[0].detail).toBe('rate limited by the push service; retrying in 1 s');
  expect(summarizePushes(steps)[0]).toMatchObject({ state: 'accepted' });
}, 30_000);

it('a server error: recorded as retrying, then accepted; the stored outcomes agree', async () => {
  const steps = await stepsOfDonePush({ status: 500 });
  expect(steps.map((o) => o.result)).toEqual(['retrying', 'accepted']);
  expect(steps[0].detail).toMatch(/^push service error; retrying in \d+ s$/);
  const stored = await phone.send<PushOutcome[]>({ type: 'push.outcomes' });
  const ofPush = stored.filter((o) => o.ref === steps[0].ref).map((o) => o.result);
  expect(ofPush).toEqual(['retrying', 'accepted']);
}, 30_000);
