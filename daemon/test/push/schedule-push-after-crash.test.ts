// A scheduled run that did not run (a spending cap refused it) or a missed one that asks Run or Skip
// is committed, and a moment later its push is recorded in push.json: a kill -9 in between must not
// lose the push, as it does not for a task's ending. The next start finds the schedule update among
// the events committed after the last one push.json looked at and sends its push, once: a later
// start does not send it again. The "crash" is a copy of the home folder taken while push.json's
// write is held (crash-copy.ts); the daemons run in this process, their pushes over real https.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Schedule, Task } from '../../../shared/src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, startModelServer, text } from '../helpers/model-server.js';
import type { WsTestClient } from '../helpers/ws-client.js';
import { crashCopy, holdPushJsonWrites } from './crash-copy.js';
import { decryptPush, FakePushService, makeSubscriber, type Subscriber } from './push-service.js';

let svc: FakePushService;
let model: ModelServer;
const running: TestDaemon[] = [];
const homes: string[] = [];

beforeAll(async () => {
  svc = await FakePushService.start();
  // 10,000 input tokens on Sonnet: $0.03, over a daily cap of $0.01.
  model = await startModelServer(() => ({
    content: [text('Spent.')],
    usage: { input_tokens: 10_000, output_tokens: 0 },
  }));
});
afterAll(async () => {
  await Promise.all([svc.close(), model.close()]);
});
beforeEach(() => {
  svc.received.length = 0;
});
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
  for (const h of homes.splice(0)) fs.rmSync(h, { recursive: true, force: true });
});

const env = () => ({
  ANTHROPIC_BASE_URL: model.url,
  ANTHROPIC_API_KEY: 'sk-test-key',
  ERRAND_MODEL: 'claude-sonnet-4-6',
});
async function start(opts: { home?: string; config?: Record<string, unknown> } = {}): Promise<TestDaemon> {
  const d = await startTestDaemon({ ...opts, env: env(), push: { transport: svc.transport() } });
  running.push(d);
  if (!opts.home) homes.push(d.home);
  return d;
}
async function stop(d: TestDaemon): Promise<void> {
  running.splice(running.indexOf(d), 1);
  await d.stop();
}
/** A paired phone with notifications on. */
async function phone(d: TestDaemon): Promise<{ ws: WsTestClient; token: string; sub: Subscriber }> {
  const { token } = await d.pairDevice();
  const ws = await d.connect({ token });
  const sub = makeSubscriber(`https://fcm.googleapis.com/fcm/send/${path.basename(d.home)}`);
  await ws.send({ type: 'push.subscribe', subscription: sub.subscription });
  return { ws, token, sub };
}
/** A six-field cron expression due once a minute, next in about `inMs`. */
const dueIn = (inMs: number) => `${new Date(Date.now() + inMs).getUTCSeconds()} * * * * *`;
const pushJson = (home: string) =>
  JSON.parse(fs.readFileSync(path.join(home, 'store', 'push.json'), 'utf8')) as { pushedKeys: string[] };
/** The schedule pushes received so far, decrypted. */
const schedulePushes = (sub: Subscriber) =>
  svc.received.map((p) => decryptPush(p, sub)).filter((p) => p.type === 'schedule.missed');

/** Starts a daemon on the crash copy, lets its start-up pushes go out, stops it; twice. Returns what each sent. */
async function restartTwice(copy: string, sub: Subscriber): Promise<Array<Record<string, unknown>[]>> {
  homes.push(copy);
  const seen: Array<Record<string, unknown>[]> = [];
  for (let i = 0; i < 2; i++) {
    const d = await start({ home: copy });
    await d.daemon.idle(); // every push the start sent has been attempted
    seen.push(schedulePushes(sub));
    await stop(d);
  }
  return seen;
}

it('kill -9 right after a scheduled run is refused (spending cap): the next start pushes "did not run", once', async () => {
  const a = await start({ config: { spend: { dailyUsd: 0.01 } } });
  const { ws, sub } = await phone(a);
  // A task spends past the cap; its own push goes out (and is recorded) first.
  const { task } = await ws.send<{ task: Task }>({ type: 'thread.create', text: 'Spend a little' });
  await ws.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
  await svc.waitFor(1, 10_000);
  await a.daemon.idle();

  const { schedule } = await ws.send<{ schedule: Schedule }>({
    type: 'schedule.create',
    title: 'Morning brief',
    text: 'Summarise the inbox',
    when: { kind: 'cron', expr: dueIn(2500) },
  });
  const hold = holdPushJsonWrites(a.home);
  let copy: string;
  try {
    const refused = await ws.event(
      'schedule.updated',
      (e) => e.schedule.id === schedule.id && e.schedule.history.some((o) => o.outcome === 'failed' && !o.taskId),
      70_000,
    );
    expect(refused.schedule.history.at(-1)?.reason).toMatch(/^Not started: Today's spending cap/);
    copy = crashCopy(a.home);
    // The crash window: the refusal is committed, its push nowhere (neither recorded nor sent).
    expect(pushJson(copy).pushedKeys.filter((k) => k.startsWith('schedule-'))).toEqual([]);
    expect(schedulePushes(sub)).toEqual([]);
  } finally {
    hold.release();
  }
  await stop(a);
  svc.received.length = 0; // what the daemon that was not killed sent after all

  const [afterCrash, afterStop] = await restartTwice(copy, sub);
  expect(afterCrash).toHaveLength(1);
  expect(afterCrash[0]).toMatchObject({ title: expect.stringMatching(/^A scheduled run did not run \(\d\d:\d\d\)$/) });
  expect(afterStop).toEqual(afterCrash);
}, 120_000);

it('kill -9 right after a missed run asks Run or Skip: the next start pushes the question, once', async () => {
  const a = await start();
  const { ws, token, sub } = await phone(a);
  const { schedule } = await ws.send<{ schedule: Schedule }>({
    type: 'schedule.create',
    title: 'Morning brief',
    text: 'Summarise the inbox',
    when: { kind: 'cron', expr: dueIn(2500) },
    catchUp: 'ask',
  });
  // Errand is not running when the run is due: the next start finds it missed and asks.
  await stop(a);
  await new Promise((r) => setTimeout(r, Math.max(0, schedule.nextRunAt! + 1000 - Date.now())));
  const hold = holdPushJsonWrites(a.home);
  let copy: string;
  let asked: string;
  try {
    const a2 = await start({ home: a.home });
    const ws2 = await a2.connect({ token, lastSeq: 0 });
    const e = await ws2.event(
      'schedule.updated',
      (e) => e.schedule.id === schedule.id && e.schedule.history.some((o) => o.ask === 'open'),
      20_000,
    );
    asked = e.schedule.history.find((o) => o.ask === 'open')!.id;
    copy = crashCopy(a.home);
    expect(pushJson(copy).pushedKeys.filter((k) => k.startsWith('schedule-'))).toEqual([]);
    expect(schedulePushes(sub)).toEqual([]);
  } finally {
    hold.release();
  }
  for (const d of running.splice(0)) await d.stop();
  svc.received.length = 0;

  const [afterCrash, afterStop] = await restartTwice(copy, sub);
  expect(afterCrash).toHaveLength(1);
  // The notification's Run and Skip decide that very occurrence.
  expect(afterCrash[0]).toMatchObject({ schedule: { id: schedule.id, occurrenceId: asked } });
  expect(afterStop).toEqual(afterCrash);
}, 120_000);
