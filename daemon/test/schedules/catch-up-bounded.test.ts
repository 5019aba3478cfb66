// Frequent schedules after a long gap: the catch-up accounts for each one in bounded work (the
// newest missed occurrence and how many before it, never a list of thousands), lets the event loop
// run between schedules, and never keeps the daemon from listening.
import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, expect, it } from 'vitest';
import type { Schedule } from '../../../shared/src/index.js';
import { type SchedulesModule, startSchedules } from '../../src/schedules/index.js';
import { dueBetween, dueSince, MAX_LISTED } from '../../src/schedules/timing.js';
import { type Harness, startHarness } from '../agent/harness.js';
import { startTestDaemon, type TestDaemon, tempHome } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import { FakeClock } from './fake-clock.js';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

let server: ModelServer | undefined;
let h: Harness | undefined;
let mod: SchedulesModule | undefined;
let td: TestDaemon | undefined;
let home: string | undefined;
afterEach(async () => {
  await mod?.stop();
  mod = undefined;
  await h?.cleanup();
  h = undefined;
  await td?.stop();
  td = undefined;
  await server?.close();
  server = undefined;
  if (home) fs.rmSync(home, { recursive: true, force: true });
  home = undefined;
});

async function everyMinute(n: number): Promise<void> {
  for (let i = 0; i < n; i++)
    await h!.send('schedule.create', {
      text: `Check the build ${i}`,
      when: { kind: 'cron', expr: '* * * * *' },
      timeZone: 'Europe/Paris',
      catchUp: 'skip',
    } as never);
}

it('50 every-minute schedules after a 3-day sleep: the wake-up is quick and never holds the event loop long', async () => {
  server = await startModelServer(() => reply(text('ok')));
  h = await startHarness({ modelUrl: server.url });
  const clock = new FakeClock(Date.parse('2027-01-11T06:00:30Z'), async () => {
    await mod?.engine.settled();
  });
  mod = await startSchedules(h.ctx, h.agent, { clock });
  await everyMinute(50);
  clock.sleep(3 * DAY);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const t0 = performance.now();
  await clock.advance(MIN);
  const took = performance.now() - t0;
  loop.disable();
  console.log(
    `wake-up tick, 50 schedules: ${took.toFixed(0)} ms; longest event-loop block ${(loop.max / 1e6).toFixed(0)} ms`,
  );
  expect(took).toBeLessThan(2000);
  expect(loop.max / 1e6).toBeLessThan(100);
  // Still every occurrence accounted for: the misses before the newest folded into one entry.
  const newest = Math.floor(clock.now() / MIN) * MIN;
  for (const s of h.store.schedules.list()) {
    const [folded, last] = s.history.slice(-2);
    expect(folded).toMatchObject({
      outcome: 'missed',
      dueAt: Date.parse('2027-01-11T06:01:00Z'),
      lastDueAt: newest - MIN,
    });
    expect(folded.count).toBeGreaterThan(5);
    expect(folded.reason).toMatch(/^At least \d+ occurrences missed: the computer was asleep\.$/);
    expect(last).toMatchObject({ outcome: 'missed', dueAt: newest });
    expect(s).toMatchObject({ accountedUntil: newest, nextRunAt: newest + MIN });
  }
}, 120_000);

it('60 every-minute schedules last accounted 3 days ago: the restarted daemon listens at once and catches up after', async () => {
  home = tempHome('errand-catch-up-bounded-');
  server = await startModelServer(() => reply(text('ok')));
  h = await startHarness({ modelUrl: server.url, home });
  const clock = new FakeClock(Date.now() - 3 * DAY, async () => {
    await mod?.engine.settled();
  });
  mod = await startSchedules(h.ctx, h.agent, { clock });
  await everyMinute(60);
  await mod.stop();
  mod = undefined;
  await h.stop();
  h = undefined;
  const t0 = performance.now();
  td = await startTestDaemon({ home, config: { port: 0 } });
  const listening = performance.now() - t0;
  // The owner gets in: a phone pairs and its socket authenticates while the catch-up goes on.
  const ws = await td.connect();
  const connected = performance.now() - t0;
  ws.close();
  console.log(
    `60 stale every-minute schedules: daemon listening after ${listening.toFixed(0)} ms, a phone connected after ${connected.toFixed(0)} ms`,
  );
  expect(connected).toBeLessThan(3000);
  // The catch-up still happens, after the daemon listens: every schedule gets its misses recorded.
  const schedules = td.daemon.ctx.store.schedules;
  const caughtUp = () => schedules.list().every((s) => s.history.some((o) => o.outcome === 'missed'));
  const deadline = Date.now() + 60_000;
  while (!caughtUp() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const list: Schedule[] = schedules.list();
  expect(list).toHaveLength(60);
  for (const s of list)
    expect(s.history.at(-2)?.reason).toMatch(/^At least \d+ occurrences missed: Errand was not running\.$/);
}, 120_000);

it('dueSince lists a few, finds the newest two directly, and counts the rest exactly where it can (DST changes included)', () => {
  const from = Date.parse('2027-03-01T00:00:00Z');
  const to = Date.parse('2027-04-15T00:00:00Z');
  // Spring-forward on 28 March 2027, fall-back on 31 October 2027 in Paris.
  const ranges = [
    [from, to],
    [Date.parse('2027-10-01T00:00:00Z'), Date.parse('2027-11-15T00:00:00Z')],
  ];
  const cases = [
    { when: { kind: 'daily', time: '02:30' }, exact: true }, // skipped by the spring-forward, repeated by the fall-back
    { when: { kind: 'weekdays', time: '08:00' }, exact: true },
    { when: { kind: 'every', hours: 5 }, exact: true },
    { when: { kind: 'cron', expr: '*/20 * * * *' }, exact: false },
  ] as const;
  for (const [start, end] of ranges)
    for (const c of cases) {
      const s = { when: c.when, timeZone: 'Europe/Paris', accountedUntil: start } as never;
      const all = dueBetween(s, start, end, 100_000).times;
      const t0 = performance.now();
      const { times, total } = dueSince(s, end);
      const took = performance.now() - t0;
      expect(all.length).toBeGreaterThan(MAX_LISTED);
      expect(times.slice(0, MAX_LISTED)).toEqual(all.slice(0, MAX_LISTED));
      expect(times.slice(-2)).toEqual(all.slice(-2));
      expect(total?.exact).toBe(c.exact);
      if (c.exact) expect(total?.count).toBe(all.length);
      else expect(total?.count).toBe(times.length);
      expect(took).toBeLessThan(100);
    }
  // A few due: all of them, no count.
  const daily = { when: { kind: 'daily', time: '08:00' }, timeZone: 'UTC', accountedUntil: from } as never;
  expect(dueSince(daily, from + 3 * DAY)).toEqual({ times: [1, 2, 3].map((d) => from + 8 * 60 * MIN + (d - 1) * DAY) });
});
