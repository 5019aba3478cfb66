// A push not sent because the device had the thread open (suppressed) is a decision push.json
// records with the change's key, in one write: a kill -9 after that write, however long after,
// must not make the next start send the push after all (it would take the ending for one whose
// push a crash cut off). The "crash" is a copy of the home folder once everything the ending
// started has settled (crash-copy.ts); the daemons run in this process, their pushes over real https.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Task } from '../../../shared/src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import { crashCopy } from './crash-copy.js';
import { FakePushService, makeSubscriber } from './push-service.js';

let svc: FakePushService;
let model: ModelServer;
/** The model answers once this opens: the phone has the thread on screen before the task ends. */
let answer!: () => void;
const running: TestDaemon[] = [];
const homes: string[] = [];

beforeAll(async () => {
  svc = await FakePushService.start();
  const open = new Promise<void>((resolve) => {
    answer = resolve;
  });
  model = await startModelServer(async () => {
    await open;
    return reply(text('Hello'));
  });
});
afterAll(async () => {
  await Promise.all([svc.close(), model.close()]);
});
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
  for (const h of homes.splice(0)) fs.rmSync(h, { recursive: true, force: true });
});

async function start(home?: string): Promise<TestDaemon> {
  const d = await startTestDaemon({
    home,
    env: { ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'sk-test-key', ERRAND_MODEL: 'claude-sonnet-4-6' },
    push: { transport: svc.transport() },
  });
  running.push(d);
  homes.push(d.home);
  return d;
}

it('kill -9 after a push was suppressed (the thread was on screen): the next start does not send it', async () => {
  const a = await start();
  const { token } = await a.pairDevice();
  const ws = await a.connect({ token });
  const sub = makeSubscriber(`https://fcm.googleapis.com/fcm/send/${path.basename(a.home)}`);
  await ws.send({ type: 'push.subscribe', subscription: sub.subscription });
  const { task } = await ws.send<{ task: Task }>({ type: 'thread.create', text: 'Say hello' });
  await ws.send({ type: 'presence.set', threadId: task.threadId, foreground: true });
  answer();
  await ws.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
  await ws.event('push.outcome', (e) => e.outcome.threadId === task.threadId && e.outcome.result === 'suppressed');
  await a.daemon.idle();
  // Nothing else happens; then the crash.
  const copy = crashCopy(a.home);
  homes.push(copy);
  running.splice(running.indexOf(a), 1);
  await a.stop();
  expect(svc.received).toHaveLength(0);

  const b = await start(copy);
  await b.daemon.idle(); // every push the start sent has been attempted
  expect(svc.received).toHaveLength(0);
  const outcomes = await (await b.connect({ token })).send<Array<{ threadId?: string; result: string }>>({
    type: 'push.outcomes',
  });
  expect(outcomes.filter((o) => o.threadId === task.threadId).map((o) => o.result)).toEqual(['suppressed']);
}, 60_000);
