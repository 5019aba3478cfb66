// Schedules on the real agent, store and journal, talking to the scripted model server; the
// schedule engine's clock is injected (FakeClock) so calendar time, restarts and sleep are exact.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Occurrence, Schedule } from '../../../shared/src/index.js';
import { type SchedulesModule, startSchedules } from '../../src/schedules/index.js';
import { scanJournal } from '../../src/store/journal.js';
import { type Harness, startHarness } from '../agent/harness.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import { FakeClock } from './fake-clock.js';

let server: ModelServer;
let h: Harness | undefined;
let mod: SchedulesModule | undefined;
const MIN = 60_000;
const HOUR = 60 * MIN;
/** A run just started may already have ended (the scripted model answers at once). */
const STARTED = ['running', 'ran'];

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

async function boot(wall: number, home?: string): Promise<{ clock: FakeClock }> {
  h = await startHarness({ modelUrl: server.url, home });
  const clock = new FakeClock(wall, async () => {
    await mod?.engine.settled();
  });
  mod = await startSchedules(h.ctx, h.agent, { clock });
  // The start-up catch-up runs behind the start (the daemon listens meanwhile): let it finish.
  await mod.engine.settled();
  return { clock };
}

/** Stop the schedules and the agent cleanly; the home folder stays for the restart. */
async function shutdown(): Promise<string> {
  await mod?.stop();
  mod = undefined;
  const home = h!.home;
  await h!.stop();
  return home;
}

const get = (id: string): Schedule => h!.store.schedules.get(id)!;
const last = (id: string): Occurrence => get(id).history.at(-1)!;

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function create(fields: Record<string, unknown>): Promise<Schedule> {
  const r = await h!.send('schedule.create', { text: 'Summarise what landed in Inbox', ...fields } as never);
  return r.schedule as Schedule;
}

// Monday 11 January 2027, 07:59 in Paris (CET, UTC+1).
const MON_0759_PARIS = Date.parse('2027-01-11T06:59:00Z');
const MON_0800_PARIS = Date.parse('2027-01-11T07:00:00Z');

describe('a schedule', () => {
  it('runs on time into its own thread, every run in the same thread, and records each outcome', async () => {
    const { clock } = await boot(MON_0759_PARIS);
    const s = await create({
      title: 'Morning brief',
      when: { kind: 'daily', time: '08:00' },
      timeZone: 'Europe/Paris',
    });
    expect(s.nextRunAt).toBe(MON_0800_PARIS);
    expect(s.state).toBe('active');
    expect(mod!.engine).toBeDefined();

    await clock.advance(MIN);
    const first = last(s.id);
    expect(first).toMatchObject({ dueAt: MON_0800_PARIS });
    expect(STARTED).toContain(first.outcome);
    const threadId = get(s.id).threadId!;
    expect(h!.store.threads.summary(threadId)?.title).toBe('Morning brief');
    await h!.waitTask(first.taskId!, ['done']);
    await until('the run recorded as ran', () => last(s.id).outcome === 'ran');
    expect(get(s.id).nextRunAt).toBe(MON_0800_PARIS + 24 * HOUR);

    await clock.advance(24 * HOUR);
    const second = last(s.id);
    expect(second).toMatchObject({ dueAt: MON_0800_PARIS + 24 * HOUR });
    expect(STARTED).toContain(second.outcome);
    expect(get(s.id).threadId).toBe(threadId);
    await h!.waitTask(second.taskId!, ['done']);
    await until('the second run recorded', () => last(s.id).outcome === 'ran');
    const doc = await h!.store.threads.load(threadId);
    expect(doc.tasks.map((t) => t.id)).toEqual([first.taskId, second.taskId]);
    expect(get(s.id).history.map((o) => o.outcome)).toEqual(['ran', 'ran']);
    expect(h!.eventsOf('schedule.updated').some((e) => e.schedule.id === s.id && e.schedule.history.length === 2)).toBe(
      true,
    );
  });

  it('accounts for occurrences missed while Errand was down, by each catch-up rule, after a real restart', async () => {
    const { clock } = await boot(MON_0759_PARIS - 2 * HOUR);
    const daily = { when: { kind: 'daily', time: '08:00' }, timeZone: 'Europe/Paris' };
    const run = await create({ ...daily, title: 'Run rule', catchUp: 'run' });
    const skip = await create({ ...daily, title: 'Skip rule', catchUp: 'skip' });
    const ask = await create({ ...daily, title: 'Ask rule', catchUp: 'ask' });
    const tooLate = await create({ ...daily, title: 'Short window', catchUp: 'run', catchUpWindowMinutes: 30 });
    const home = await shutdown();

    // Down across 08:00; back 45 minutes later.
    const back = MON_0800_PARIS + 45 * MIN;
    expect(clock.now()).toBeLessThan(back);
    await boot(back, home);

    const r = last(run.id);
    expect(r).toMatchObject({ dueAt: MON_0800_PARIS, late: true });
    expect(STARTED).toContain(r.outcome);
    expect(r.reason).toMatch(/Errand was not running/);
    await h!.waitTask(r.taskId!, ['done']);
    await until('the caught-up run recorded', () => last(run.id).outcome === 'ran');

    expect(get(skip.id).history).toHaveLength(1);
    expect(last(skip.id)).toMatchObject({ dueAt: MON_0800_PARIS, outcome: 'missed' });
    expect(last(skip.id).reason).toMatch(/not running; not caught up \(its rule is skip\)/);
    expect(last(skip.id).taskId).toBeUndefined();

    expect(last(tooLate.id)).toMatchObject({ outcome: 'missed' });
    expect(last(tooLate.id).reason).toMatch(/too late to catch up \(more than 30 min/);

    const asked = last(ask.id);
    expect(asked).toMatchObject({ outcome: 'missed', ask: 'open' });
    expect(get(ask.id).threadId).toBeUndefined();
    // Run from the question: the missed occurrence runs now, late.
    const decided = (await h!.send('schedule.decide', { scheduleId: ask.id, occurrenceId: asked.id, decision: 'run' }))
      .schedule as Schedule;
    expect(decided.history.at(-1)).toMatchObject({ id: asked.id, ask: 'run', outcome: 'running', late: true });
    await h!.waitTask(decided.history.at(-1)!.taskId!, ['done']);
    await expect(
      h!.send('schedule.decide', { scheduleId: ask.id, occurrenceId: asked.id, decision: 'skip' }),
    ).rejects.toMatchObject({ code: 'conflict' });

    // Every schedule's next run is tomorrow, and nothing ran twice.
    for (const s of [run, skip, ask, tooLate]) expect(get(s.id).nextRunAt).toBe(MON_0800_PARIS + 24 * HOUR);
    expect(server.requests).toHaveLength(2);
  });

  it('finds a run that was going when Errand stopped as interrupted at the next start', async () => {
    server.setScript(() => ({ kind: 'hang' }));
    const { clock } = await boot(MON_0759_PARIS);
    const s = await create({ when: { kind: 'daily', time: '08:00' }, timeZone: 'Europe/Paris' });
    await clock.advance(MIN);
    await server.waitForRequests(1);
    expect(last(s.id).outcome).toBe('running');
    // A crash: nothing more is written; the agent finds the task cut off at the next start.
    await mod!.stop();
    mod = undefined;
    const home = h!.home;
    await h!.abandon();
    await boot(MON_0800_PARIS + 5 * MIN, home);
    expect(last(s.id)).toMatchObject({ outcome: 'interrupted' });
  });

  it('a run cut off by a clean stop resumes after the restart and is then recorded as ran', async () => {
    server.setScript((_req, i) => (i === 0 ? { kind: 'hang' } : reply(text('Brief ready.'))));
    const { clock } = await boot(MON_0759_PARIS);
    const s = await create({ when: { kind: 'daily', time: '08:00' }, timeZone: 'Europe/Paris' });
    await clock.advance(MIN);
    await server.waitForRequests(1);
    const taskId = last(s.id).taskId!;
    const home = await shutdown();
    await boot(MON_0800_PARIS + 2 * MIN, home);
    await h!.waitTask(taskId, ['done']);
    await until('the resumed run recorded as ran', () => last(s.id).outcome === 'ran');
    expect(get(s.id).history).toHaveLength(1);
  });

  it('skips an occurrence while the previous run is still going (the overlap rule)', async () => {
    server.setScript(() => ({ kind: 'hang' }));
    const start = Date.parse('2027-01-11T10:00:30Z');
    const { clock } = await boot(start);
    const s = await create({ when: { kind: 'cron', expr: '* * * * *' }, timeZone: 'UTC' });
    await clock.advance(30_000);
    const first = last(s.id);
    expect(first.outcome).toBe('running');
    await server.waitForRequests(1);
    await clock.advance(MIN);
    expect(last(s.id)).toMatchObject({ outcome: 'skipped', reason: 'The previous run was still going.' });
    await expect(h!.send('schedule.run', { scheduleId: s.id })).rejects.toMatchObject({ code: 'conflict' });
    await h!.send('task.cancel', { taskId: first.taskId! });
    await until('the first run recorded as cancelled', () => get(s.id).history[0].outcome === 'cancelled');
  });

  it('runs a time repeated by a fall-back once, and a one-off in a spring-forward gap at the change', async () => {
    // New York, 7 November 2027: 01:00–01:59 happens twice (EDT, then EST).
    const { clock } = await boot(Date.parse('2027-11-07T04:50:00Z'));
    const s = await create({ when: { kind: 'cron', expr: '0,30 1 * * *' }, timeZone: 'America/New_York' });
    // Half an hour at a time, each run finished before the next is due; then on past 01:59 EST.
    for (let i = 0; i < 5; i++) {
      await clock.advance(30 * MIN);
      await until('the runs recorded', () => get(s.id).history.every((o) => o.outcome === 'ran'));
    }
    expect(get(s.id).history.map((o) => new Date(o.dueAt).toISOString())).toEqual([
      '2027-11-07T05:00:00.000Z',
      '2027-11-07T05:30:00.000Z',
    ]);
    expect(server.requests).toHaveLength(2);
    expect(get(s.id).nextRunAt).toBe(Date.parse('2027-11-08T06:00:00Z'));
    // 12 March 2028: 02:30 does not exist; the first valid time after it is 03:00 EDT.
    const once = await create({ when: { kind: 'once', at: '2028-03-12T02:30' }, timeZone: 'America/New_York' });
    expect(once.nextRunAt).toBe(Date.parse('2028-03-12T07:00:00Z'));
  });

  it('sees a wall-clock jump as sleep: every occurrence slept through is recorded, folded, never dropped', async () => {
    const t0 = Date.parse('2027-01-11T06:00:00Z');
    const { clock } = await boot(t0);
    const s = await create({ when: { kind: 'every', hours: 1 }, catchUp: 'skip', timeZone: 'UTC' });
    expect(s.nextRunAt).toBe(t0 + HOUR);
    clock.sleep(10 * HOUR + 30 * MIN);
    await clock.advance(MIN);
    const hist = get(s.id).history;
    expect(hist).toHaveLength(2);
    expect(hist[0]).toMatchObject({ outcome: 'missed', count: 9, dueAt: t0 + HOUR, lastDueAt: t0 + 9 * HOUR });
    expect(hist[0].reason).toMatch(/9 occurrences missed: the computer was asleep/);
    expect(hist[1]).toMatchObject({ outcome: 'missed', dueAt: t0 + 10 * HOUR });
    expect(hist[1].reason).toMatch(/asleep; not caught up/);
    expect(get(s.id).nextRunAt).toBe(t0 + 11 * HOUR);
    expect(server.requests).toHaveLength(0);
  });

  it('a frequent schedule slept through for days: the misses are counted, the newest is accounted on its own', async () => {
    const t0 = Date.parse('2027-01-11T06:00:30Z');
    const { clock } = await boot(t0);
    const s = await create({ when: { kind: 'cron', expr: '* * * * *' }, timeZone: 'UTC', catchUp: 'skip' });
    clock.sleep(3 * 24 * HOUR);
    await clock.advance(30_000);
    const hist = get(s.id).history;
    expect(hist).toHaveLength(2);
    const newest = Math.floor(clock.now() / MIN) * MIN;
    // Counted without listing thousands (a cron rhythm is counted as "at least"), folded up to the one before the newest.
    expect(hist[0]).toMatchObject({ outcome: 'missed', dueAt: t0 + 30_000, lastDueAt: newest - MIN });
    expect(hist[0].count).toBeGreaterThanOrEqual(8);
    expect(hist[0].reason).toBe(`At least ${hist[0].count} occurrences missed: the computer was asleep.`);
    expect(hist[1]).toMatchObject({ outcome: 'missed', dueAt: newest });
    expect(get(s.id)).toMatchObject({ accountedUntil: newest, nextRunAt: newest + MIN });
  });

  it('says how late in seconds when the catch-up window is under a minute', async () => {
    const { clock } = await boot(MON_0759_PARIS);
    const s = await create({
      when: { kind: 'daily', time: '08:00' },
      timeZone: 'Europe/Paris',
      catchUp: 'run',
      catchUpWindowMinutes: 0.5,
    });
    clock.sleep(5 * MIN);
    await clock.advance(MIN);
    expect(last(s.id)).toMatchObject({
      dueAt: MON_0800_PARIS,
      outcome: 'missed',
      reason: 'the computer was asleep; too late to catch up (more than 30 s after its time).',
    });
  });

  it('only the newest missed run is asked about; an older question expires', async () => {
    const { clock } = await boot(MON_0759_PARIS);
    const s = await create({ when: { kind: 'daily', time: '08:00' }, timeZone: 'Europe/Paris', catchUp: 'ask' });
    clock.sleep(HOUR);
    await clock.advance(MIN);
    expect(last(s.id)).toMatchObject({ dueAt: MON_0800_PARIS, outcome: 'missed', ask: 'open' });
    clock.sleep(24 * HOUR);
    await clock.advance(MIN);
    const hist = get(s.id).history;
    expect(hist.map((o) => [o.dueAt, o.ask])).toEqual([
      [MON_0800_PARIS, 'expired'],
      [MON_0800_PARIS + 24 * HOUR, 'open'],
    ]);
    expect(hist[1].reason).toMatch(/the computer was asleep/);
    expect(server.requests).toHaveLength(0);
  });

  it('pause, resume, run now and delete; occurrences while paused are not missed', async () => {
    const { clock } = await boot(MON_0759_PARIS);
    const s = await create({ when: { kind: 'daily', time: '08:00' }, timeZone: 'Europe/Paris' });
    const paused = (await h!.send('schedule.pause', { scheduleId: s.id })).schedule as Schedule;
    expect(paused.state).toBe('paused');
    expect(paused.nextRunAt).toBeUndefined();
    await clock.advance(2 * HOUR);
    expect(get(s.id).history).toHaveLength(0);
    const resumed = (await h!.send('schedule.resume', { scheduleId: s.id })).schedule as Schedule;
    expect(resumed.nextRunAt).toBe(MON_0800_PARIS + 24 * HOUR);
    expect(resumed.history).toHaveLength(0);

    const ran = await h!.send('schedule.run', { scheduleId: s.id });
    expect(ran.schedule.history.at(-1)).toMatchObject({ manual: true, outcome: 'running' });
    await h!.waitTask(ran.taskId, ['done']);
    await until('the manual run recorded', () => last(s.id).outcome === 'ran');

    // Renamed: its thread follows, so pushes and the thread list name the schedule.
    const renamed = (await h!.send('schedule.update', { scheduleId: s.id, title: 'Evening brief' }))
      .schedule as Schedule;
    expect(renamed.title).toBe('Evening brief');
    expect(h!.store.threads.summary(ran.threadId)?.title).toBe('Evening brief');

    expect((await h!.send('schedules.list', {})).schedules).toHaveLength(1);
    expect(await h!.send('schedule.delete', { scheduleId: s.id })).toEqual({ removed: s.id, threadId: ran.threadId });
    expect(h!.eventsOf('schedule.removed')).toEqual([{ kind: 'schedule.removed', scheduleId: s.id }]);
    expect((await h!.send('schedules.list', {})).schedules).toHaveLength(0);
    await expect(h!.send('schedule.pause', { scheduleId: s.id })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('refuses a bad time zone, a bad cron expression, a date that never comes and a one-off time already past', async () => {
    await boot(MON_0759_PARIS);
    await expect(create({ when: { kind: 'daily', time: '08:00' }, timeZone: 'Mars/Base' })).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringMatching(/not a time zone/),
    });
    await expect(create({ when: { kind: 'cron', expr: '61 * * * *' }, timeZone: 'UTC' })).rejects.toMatchObject({
      code: 'bad_request',
    });
    await expect(
      create({ when: { kind: 'once', at: '2027-01-11T07:00' }, timeZone: 'Europe/Paris' }),
    ).rejects.toMatchObject({ code: 'bad_request', message: expect.stringMatching(/already passed/) });
    // A date that never comes is not "already passed".
    for (const expr of ['0 9 30 2 *', '0 9 31 4 *'])
      await expect(create({ when: { kind: 'cron', expr }, timeZone: 'UTC' })).rejects.toMatchObject({
        code: 'bad_request',
        message: expect.stringMatching(/never matches a real date/),
      });
    const once = await create({ when: { kind: 'once', at: '2027-01-11T08:30' }, timeZone: 'Europe/Paris' });
    expect(once.nextRunAt).toBe(MON_0800_PARIS + 30 * MIN);
  });

  it('commits a schedule change, its event and the reply in one journal record, and keeps schedules across restarts', async () => {
    await boot(MON_0759_PARIS);
    const cmdId = 'cmd_sched_create_1';
    const reply1 = await h!.store.commands.once('dev_test', cmdId, async () => ({
      ok: true,
      result: await h!.ctx.commands.dispatch(
        {
          id: cmdId,
          type: 'schedule.create',
          text: 'Water the plants',
          when: { kind: 'weekdays', time: '18:00' },
          timeZone: 'Europe/Paris',
        },
        h!.cc,
      ),
    }));
    const made = (reply1.result as { schedule: Schedule }).schedule;
    const recs = scanJournal(h!.store.journal.dir).records;
    const rec = recs.find((r) => r.ops.some((o) => o.t === 'schedule'));
    expect(rec).toBeDefined();
    expect(rec!.ops.map((o) => o.t).sort()).toEqual(['reply', 'schedule']);
    expect(rec!.events.map((e) => e.event.kind)).toEqual(['schedule.updated']);
    // Crash (no snapshot): the journal records alone bring it back.
    await mod!.stop();
    mod = undefined;
    const home = h!.home;
    await h!.abandon();
    await boot(MON_0759_PARIS, home);
    expect(get(made.id)).toEqual(made);
    // Clean stop (snapshot) and back again.
    await boot(MON_0759_PARIS, await shutdown());
    expect(get(made.id)).toEqual(made);
  });
});
