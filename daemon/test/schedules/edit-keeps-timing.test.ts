// An edit that does not change when a schedule runs leaves its timing alone, and no edit loses what
// is already due. The phone's edit form sends the rhythm it shows (a new object) with every save, so
// these edits are sent as the phone sends them: every field, the rhythm cloned. Right after a wake
// the engine's timer fires up to a minute late; an edit, pause or resume in that minute must still
// leave every occurrence the sleep missed in the history, asked about or caught up by its rule.
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Schedule } from '../../../shared/src/index.js';
import { type SchedulesModule, startSchedules } from '../../src/schedules/index.js';
import { type Harness, startHarness } from '../agent/harness.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import { FakeClock } from './fake-clock.js';

let server: ModelServer;
let h: Harness | undefined;
let mod: SchedulesModule | undefined;

beforeEach(async () => {
  server = await startModelServer(() => reply(text('Inbox summary: nothing new')));
});
afterEach(async () => {
  await mod?.stop();
  mod = undefined;
  await h?.cleanup();
  h = undefined;
  await server.close();
});

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
// Monday 11 January 2027, 08:00 UTC.
const MON_0800 = Date.parse('2027-01-11T08:00:00Z');
const at = (iso: string) => Date.parse(`${iso}Z`);

async function boot(wall: number): Promise<FakeClock> {
  h = await startHarness({ modelUrl: server.url });
  const clock = new FakeClock(wall, async () => {
    await mod?.engine.settled();
  });
  mod = await startSchedules(h.ctx, h.agent, { clock });
  await mod.engine.settled();
  return clock;
}

const get = (id: string): Schedule => h!.store.schedules.get(id)!;
const create = async (f: Record<string, unknown>): Promise<Schedule> =>
  (await h!.send('schedule.create', { text: 'Summarise what landed in Inbox', ...f } as never)).schedule;
/** A rename as the phone's form sends it: every field as shown, the rhythm a new object. */
const renameFromPhone = async (s: Schedule, title: string): Promise<Schedule> =>
  (
    await h!.send('schedule.update', {
      scheduleId: s.id,
      text: s.text,
      when: structuredClone(s.when),
      catchUp: s.catchUp,
      title,
      maxCostUsd: null,
    })
  ).schedule;

it('renaming an "every N hours" schedule keeps its next run', async () => {
  const clock = await boot(MON_0800);
  const s = await create({ when: { kind: 'every', hours: 24 }, timeZone: 'UTC' });
  expect(s.nextRunAt).toBe(MON_0800 + DAY);
  await clock.advance(7 * HOUR);
  const renamed = await renameFromPhone(s, 'Daily inbox');
  expect(renamed).toMatchObject({ title: 'Daily inbox', accountedUntil: MON_0800, nextRunAt: MON_0800 + DAY });
  // It runs when it always would have, 17 hours later, not 24 hours after the rename.
  await clock.advance(17 * HOUR);
  expect(get(s.id).history.map((o) => o.dueAt)).toEqual([MON_0800 + DAY]);
  await h!.waitTask(get(s.id).history[0].taskId!, ['done']);
});

it('a rename right after a wake records the runs the sleep missed and asks about the latest', async () => {
  const clock = await boot(MON_0800);
  const s = await create({ when: { kind: 'daily', time: '09:00' }, timeZone: 'UTC', catchUp: 'ask' });
  clock.sleep(3 * DAY); // Thursday 08:00: Monday, Tuesday and Wednesday 09:00 slept through
  const renamed = await renameFromPhone(s, 'Morning inbox');
  expect(renamed.title).toBe('Morning inbox');
  expect(renamed.history.map((o) => [o.dueAt, o.outcome, o.ask])).toEqual([
    [at('2027-01-11T09:00'), 'missed', undefined],
    [at('2027-01-12T09:00'), 'missed', undefined],
    [at('2027-01-13T09:00'), 'missed', 'open'],
  ]);
  expect(renamed.history.every((o) => o.reason === 'the computer was asleep.')).toBe(true);
  expect(renamed.nextRunAt).toBe(at('2027-01-14T09:00'));
  // The late timer fires: nothing is counted twice.
  await clock.advance(2 * MIN);
  expect(get(s.id).history).toEqual(renamed.history);
  expect(server.requests).toHaveLength(0);
});

it('pause then resume right after a wake: the missed runs are recorded and the latest is caught up', async () => {
  const clock = await boot(MON_0800);
  const s = await create({ when: { kind: 'daily', time: '09:00' }, timeZone: 'UTC', catchUp: 'run' });
  clock.sleep(3 * DAY + 2 * HOUR); // Thursday 10:00: Thursday 09:00 is an hour late, inside its catch-up window
  const paused = (await h!.send('schedule.pause', { scheduleId: s.id })).schedule as Schedule;
  expect(paused.state).toBe('paused');
  const resumed = (await h!.send('schedule.resume', { scheduleId: s.id })).schedule as Schedule;
  expect(resumed.history.map((o) => o.dueAt)).toEqual(
    ['2027-01-11', '2027-01-12', '2027-01-13', '2027-01-14'].map((d) => at(`${d}T09:00`)),
  );
  const caughtUp = resumed.history[3];
  expect(caughtUp).toMatchObject({ late: true });
  expect(caughtUp.taskId).toBeDefined();
  expect(resumed.nextRunAt).toBe(at('2027-01-15T09:00'));
  await h!.waitTask(caughtUp.taskId!, ['done']);
  // The run's end is recorded by the engine's queue, after the task's own event.
  await expect.poll(() => get(s.id).history[3].outcome, { timeout: 10_000 }).toBe('ran');
  await clock.advance(2 * MIN);
  expect(get(s.id).history).toHaveLength(4);
  expect(server.requests).toHaveLength(1);
});

it('an edit right after a wake leaves the wake to the timer for the schedules it did not touch', async () => {
  const clock = await boot(MON_0800);
  const edited = await create({ when: { kind: 'daily', time: '09:00' }, timeZone: 'UTC', catchUp: 'skip' });
  const other = await create({ when: { kind: 'daily', time: '10:00' }, timeZone: 'UTC', catchUp: 'skip' });
  clock.sleep(DAY + 4 * HOUR); // Tuesday 12:00
  await renameFromPhone(edited, 'Morning inbox');
  await clock.advance(2 * MIN);
  const reasons = get(other.id).history.map((o) => o.reason);
  expect(reasons).toHaveLength(2);
  for (const reason of reasons) expect(reason).toMatch(/^the computer was asleep/);
});

it('a one-off that has run can be renamed; moving it into the past is still refused', async () => {
  const clock = await boot(MON_0800);
  const s = await create({ when: { kind: 'once', at: '2027-01-11T09:00' }, timeZone: 'UTC' });
  await clock.advance(HOUR + MIN);
  await h!.waitTask(get(s.id).history[0].taskId!, ['done']);
  await mod!.engine.settled();
  const ended = get(s.id);
  expect(ended.state).toBe('ended');

  const renamed = await renameFromPhone(ended, 'Monday inbox');
  expect(renamed).toMatchObject({ title: 'Monday inbox', state: 'ended', history: ended.history });
  expect(renamed.nextRunAt).toBeUndefined();

  await expect(
    h!.send('schedule.update', { scheduleId: s.id, when: { kind: 'once', at: '2027-01-11T08:30' } }),
  ).rejects.toThrow(/already passed/);
  const moved = (await h!.send('schedule.update', { scheduleId: s.id, when: { kind: 'once', at: '2027-01-12T09:00' } }))
    .schedule as Schedule;
  expect(moved).toMatchObject({ state: 'active', nextRunAt: at('2027-01-12T09:00') });
  expect(server.requests).toHaveLength(1);
});
