// A wall clock set back (NTP correcting a fast clock, a dual-boot RTC in local time): an occurrence
// that already ran never runs a second time, whatever the clock does; one recorded as missed only
// because the clock was ahead still runs at its real time, a one-off too.
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Schedule } from '../../../shared/src/index.js';
import { type SchedulesModule, startSchedules } from '../../src/schedules/index.js';
import { type Harness, startHarness } from '../agent/harness.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import { FakeClock } from './fake-clock.js';

let server: ModelServer;
let h: Harness | undefined;
let mod: SchedulesModule | undefined;
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const at = (iso: string) => Date.parse(`${iso}Z`);

beforeEach(async () => {
  server = await startModelServer(() => reply(text('Sent the weekly invoice email')));
});
afterEach(async () => {
  await mod?.stop();
  mod = undefined;
  await h?.cleanup();
  h = undefined;
  await server.close();
});

async function boot(wall: number): Promise<FakeClock> {
  h = await startHarness({ modelUrl: server.url });
  const clock = new FakeClock(wall, async () => {
    await mod?.engine.settled();
  });
  mod = await startSchedules(h.ctx, h.agent, { clock });
  return clock;
}

async function create(fields: Record<string, unknown>): Promise<Schedule> {
  const r = await h!.send('schedule.create', { text: 'Email the weekly invoice to the client', ...fields } as never);
  return r.schedule as Schedule;
}

const get = (id: string): Schedule => h!.store.schedules.get(id)!;

it('a daily 08:00 that ran, then the clock set back 5 minutes: 08:00 does not run again', async () => {
  const clock = await boot(at('2027-01-11T07:59:30'));
  const s = await create({ when: { kind: 'daily', time: '08:00' }, timeZone: 'UTC', catchUp: 'skip' });
  await clock.advance(MIN);
  const first = get(s.id).history.at(-1)!;
  expect(first).toMatchObject({ dueAt: at('2027-01-11T08:00') });
  await h!.waitTask(first.taskId!, ['done']);
  // The clock was 5 minutes fast; NTP steps it back, and the real 08:00 comes by.
  clock.jump(-5 * MIN);
  await clock.advance(10 * MIN);
  expect(
    get(s.id)
      .history.filter((o) => o.taskId)
      .map((o) => o.dueAt),
  ).toEqual([at('2027-01-11T08:00')]);
  expect(get(s.id)).toMatchObject({ state: 'active', nextRunAt: at('2027-01-12T08:00') });
  expect(server.requests).toHaveLength(1);
  // The next day runs as usual.
  await clock.advance(DAY);
  expect(
    get(s.id)
      .history.filter((o) => o.taskId)
      .map((o) => o.dueAt),
  ).toEqual([at('2027-01-11T08:00'), at('2027-01-12T08:00')]);
});

it('two hours set back after an hourly run caught up late: nothing at or before the run that started runs again', async () => {
  const clock = await boot(at('2027-01-11T09:00:30'));
  const s = await create({ when: { kind: 'cron', expr: '0 * * * *' }, timeZone: 'UTC', catchUp: 'run' });
  // Two hours forward by mistake: 10:00 missed, 11:00 caught up and run (late).
  clock.jump(2 * HOUR);
  await clock.advance(MIN);
  const ran = get(s.id).history.at(-1)!;
  expect(ran).toMatchObject({ dueAt: at('2027-01-11T11:00'), late: true });
  await h!.waitTask(ran.taskId!, ['done']);
  // Corrected: 11:00 has run, so neither it nor anything before it runs again; 12:00 is next.
  clock.jump(-2 * HOUR);
  await clock.advance(MIN);
  expect(get(s.id).nextRunAt).toBe(at('2027-01-11T12:00'));
  await clock.advance(3 * HOUR);
  const runs = get(s.id).history.filter((o) => o.taskId);
  expect(runs.map((o) => o.dueAt)).toEqual([at('2027-01-11T11:00'), at('2027-01-11T12:00')]);
  await h!.waitTask(runs[1].taskId!, ['done']);
  expect(server.requests).toHaveLength(2);
});

it('a one-off passed by a clock set 2 days ahead, then corrected: it runs at its real time, and its history says why', async () => {
  const clock = await boot(at('2027-01-11T10:00:00'));
  const s = await create({
    text: 'Remind me to renew the passport',
    when: { kind: 'once', at: '2027-01-12T09:00' },
    timeZone: 'UTC',
  });
  clock.jump(2 * DAY);
  await clock.advance(MIN);
  expect(get(s.id)).toMatchObject({ state: 'ended' });
  expect(get(s.id).history.map((o) => o.outcome)).toEqual(['missed']);
  // Corrected within the minute: the one-off is waiting for its time again.
  clock.jump(-2 * DAY);
  await clock.advance(MIN);
  expect(get(s.id)).toMatchObject({ state: 'active', nextRunAt: at('2027-01-12T09:00') });
  const wrong = get(s.id).history[0];
  expect(wrong.reason).not.toMatch(/asleep/);
  expect(wrong.reason).toMatch(/clock was ahead/);
  expect(server.requests).toHaveLength(0);
  await clock.advance(DAY);
  const s2 = get(s.id);
  const run = s2.history.find((o) => o.taskId)!;
  expect(run).toMatchObject({ dueAt: at('2027-01-12T09:00') });
  expect(run.late).toBeUndefined();
  await h!.waitTask(run.taskId!, ['done']);
  expect(s2.state).toBe('ended');
  expect(server.requests).toHaveLength(1);
});

it('a one-off that ran is never reopened by a clock set back before its time', async () => {
  const clock = await boot(at('2027-01-12T08:59:30'));
  const s = await create({ when: { kind: 'once', at: '2027-01-12T09:00' }, timeZone: 'UTC' });
  await clock.advance(MIN);
  const run = get(s.id).history.at(-1)!;
  await h!.waitTask(run.taskId!, ['done']);
  expect(get(s.id).state).toBe('ended');
  clock.jump(-HOUR);
  await clock.advance(2 * HOUR);
  expect(get(s.id)).toMatchObject({ state: 'ended', nextRunAt: undefined });
  expect(get(s.id).history).toHaveLength(1);
  expect(server.requests).toHaveLength(1);
});

it('a question about an occurrence the clock was ahead for expires at the correction: it runs at its time, once', async () => {
  const clock = await boot(at('2027-01-11T07:50:00'));
  const s = await create({ when: { kind: 'daily', time: '08:00' }, timeZone: 'UTC', catchUp: 'ask' });
  clock.jump(HOUR);
  await clock.advance(MIN);
  const asked = get(s.id).history.at(-1)!;
  expect(asked).toMatchObject({ dueAt: at('2027-01-11T08:00'), ask: 'open' });
  clock.jump(-HOUR);
  await clock.advance(MIN);
  expect(get(s.id).history[0]).toMatchObject({
    id: asked.id,
    ask: 'expired',
    reason: expect.stringMatching(/clock was ahead/),
  });
  // Answering it now would run 08:00 a second time once its real time comes.
  await expect(
    h!.send('schedule.decide', { scheduleId: s.id, occurrenceId: asked.id, decision: 'run' }),
  ).rejects.toMatchObject({ code: 'conflict' });
  await clock.advance(10 * MIN);
  const runs = get(s.id).history.filter((o) => o.taskId);
  expect(runs.map((o) => o.dueAt)).toEqual([at('2027-01-11T08:00')]);
  await h!.waitTask(runs[0].taskId!, ['done']);
  expect(server.requests).toHaveLength(1);
});
