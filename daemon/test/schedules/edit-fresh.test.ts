// An edit waits its turn in the schedule engine's queue behind a run that is due: it is applied to
// the schedule as that run left it, so the run's history entry, and what it has accounted for, are
// kept (an edit built from the schedule as it was before the run would drop the entry and run that
// occurrence again). The engine's queue is held so the edit lands exactly in that window.
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
const DAY = 24 * 60 * MIN;
// Monday 11 January 2027, 07:59 and 08:00 in UTC.
const MON_0759 = Date.parse('2027-01-11T07:59:00Z');
const MON_0800 = Date.parse('2027-01-11T08:00:00Z');

it('an edit queued behind a due run keeps that run: its history entry stays and it does not run again', async () => {
  h = await startHarness({ modelUrl: server.url });
  const clock = new FakeClock(MON_0759, async () => {
    await mod?.engine.settled();
  });
  mod = await startSchedules(h.ctx, h.agent, { clock });
  const engine = mod.engine;
  const { schedule } = (await h.send('schedule.create', {
    text: 'Summarise what landed in Inbox',
    when: { kind: 'daily', time: '08:00' },
    timeZone: 'UTC',
  })) as { schedule: Schedule };

  // Hold the queue; the 08:00 timer fires and its tick waits behind the hold.
  let release!: () => void;
  const held = engine.exclusive(() => new Promise<void>((r) => (release = r)));
  await clock.advance(MIN, async () => undefined);
  // The edit arrives and reaches the engine (queued behind the tick) before the hold ends.
  let reached!: () => void;
  const editQueued = new Promise<void>((r) => (reached = r));
  const edit = engine.edit.bind(engine);
  engine.edit = (...args) => {
    reached();
    return edit(...args);
  };
  const editing = h.send('schedule.update', { scheduleId: schedule.id, text: 'Summarise Inbox and Archive' });
  await editQueued;
  release();
  await held;
  const saved = (await editing).schedule as Schedule;

  expect(saved.text).toBe('Summarise Inbox and Archive');
  expect(saved.history).toHaveLength(1);
  expect(saved.history[0]).toMatchObject({ dueAt: MON_0800 });
  expect(saved.history[0].taskId).toBeDefined();
  expect(saved.accountedUntil).toBe(MON_0800);
  expect(saved.nextRunAt).toBe(MON_0800 + DAY);
  await h.waitTask(saved.history[0].taskId!, ['done']);
  await engine.settled();
  expect(server.requests).toHaveLength(1);
});
