// Schedules under faults, on the real agent, store and journal with the scripted model server: a
// crash between a run's end and its schedule's record, a full disk at a tick or a settle, and a wall
// clock set forward and back. The engine's clock is injected (FakeClock).
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { Occurrence, Schedule } from '../../../shared/src/index.js';
import { controlCall } from '../../src/control/client.js';
import { RETRY_MS } from '../../src/schedules/engine.js';
import { type SchedulesModule, startSchedules } from '../../src/schedules/index.js';
import { DiskFullError, type Op, scanJournal } from '../../src/store/journal.js';
import { type Harness, startHarness } from '../agent/harness.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { FakeClock } from './fake-clock.js';

// The journal's own fault hook: while this file exists, every append fails as on a full disk
// (read when the journal module loads, so set before any import).
const FULL = vi.hoisted(() => {
  const flag = `${process.env.TMPDIR || '/tmp'}/errand-sched-disk-full-${process.pid}`;
  process.env.ERRAND_TEST_DISK_FULL = flag;
  return flag;
});
const diskFull = (full: boolean) => (full ? fs.writeFileSync(FULL, '') : fs.rmSync(FULL, { force: true }));

let server: ModelServer;
let h: Harness | undefined;
let mod: SchedulesModule | undefined;
const MIN = 60_000;
const HOUR = 60 * MIN;
// 10,000 input tokens on Sonnet: $0.03 per call.
const costly = { input_tokens: 10_000, output_tokens: 0 };

beforeEach(async () => {
  server = await startModelServer(() => reply(text('Inbox summary: nothing new')));
});
afterEach(async () => {
  diskFull(false);
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

const get = (id: string): Schedule => h!.store.schedules.get(id)!;
const last = (id: string): Occurrence => get(id).history.at(-1)!;

async function create(fields: Record<string, unknown>): Promise<Schedule> {
  const r = await h!.send('schedule.create', { text: 'Summarise what landed in Inbox', ...fields } as never);
  return r.schedule as Schedule;
}

// Monday 11 January 2027, 07:00 in Paris (CET, UTC+1).
const MON_0700_PARIS = Date.parse('2027-01-11T06:00:00Z');
const MON_0800_PARIS = MON_0700_PARIS + 60 * MIN;
/** A run just started may already have ended (the scripted model answers at once). */
const STARTED = ['running', 'ran'];

/** The next append whose ops match fails as on a full disk (once), as the probe's FAIL_WRITE_MATCH does. */
function failNextAppend(match: (ops: Op[]) => boolean): { failed: () => boolean } {
  const journal = h!.store.journal;
  const real = journal.append.bind(journal);
  let failed = false;
  journal.append = (ops, events) => {
    if (failed || !match(ops)) return real(ops, events);
    failed = true;
    return Promise.reject(new DiskFullError(journal.dir));
  };
  return { failed: () => failed };
}

/** Every schedule as the journal on disk has it (its last record of each). */
function schedulesOnDisk(): Map<string, Schedule> {
  const out = new Map<string, Schedule>();
  for (const r of scanJournal(h!.store.journal.dir).records)
    for (const o of r.ops)
      if (o.t === 'schedule' && (o.d as { set?: Schedule }).set)
        out.set((o.d as { set: Schedule }).set.id, (o.d as { set: Schedule }).set);
  return out;
}

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

it('a run that ended while the schedules were not listening (a crash before its record) keeps its cost after the restart', async () => {
  // The run waits for a file (read-only tool), so it ends only when the test lets it.
  server.push(
    { content: [toolUse('wait_for', { file: 'go' })], usage: costly },
    { content: [text('Brief ready.')], usage: { input_tokens: 10, output_tokens: 5 } },
  );
  await boot(MON_0700_PARIS);
  const s = await create({ when: { kind: 'daily', time: '08:00' }, timeZone: 'Europe/Paris' });
  const ran = await h!.send('schedule.run', { scheduleId: s.id });
  await server.waitForRequests(1);
  // The schedules stop listening, then the task ends: its "done" is written, the schedule's record
  // of it never is (as when the daemon dies between the two).
  await mod!.stop();
  mod = undefined;
  fs.writeFileSync(path.join(h!.tools.dir, 'go'), '');
  const task = await h!.waitTask(ran.taskId, ['done']);
  expect(task.costUsd).toBeGreaterThan(0.02);
  expect(last(s.id)).toMatchObject({ outcome: 'running', taskId: ran.taskId });
  expect(get(s.id).spentUsd).toBe(0);
  const home = h!.home;
  await h!.abandon();

  await boot(MON_0700_PARIS + 5 * MIN, home);
  expect(last(s.id)).toMatchObject({ outcome: 'ran', taskId: ran.taskId, costUsd: task.costUsd });
  expect(get(s.id).spentUsd).toBeCloseTo(task.costUsd, 9);
  // And again: a restart with nothing left to settle changes nothing.
  const again = h!.home;
  await mod!.stop();
  mod = undefined;
  await h!.stop();
  await boot(MON_0700_PARIS + 10 * MIN, again);
  expect(get(s.id).spentUsd).toBeCloseTo(task.costUsd, 9);
  expect(get(s.id).history).toHaveLength(1);
});

it('a full disk when a run comes due: nothing is kept that the journal lacks, nothing runs; with room the run starts seconds later', async () => {
  const { clock } = await boot(MON_0800_PARIS - MIN);
  const s = await create({ when: { kind: 'daily', time: '08:00' }, timeZone: 'Europe/Paris' });
  const updates = h!.eventsOf('schedule.updated').length;
  diskFull(true);
  await clock.advance(MIN);
  // The tick at 08:00 could not be recorded: the schedule, its thread and the run's task are as the
  // journal has them (none of them), and the phone was told nothing.
  expect(get(s.id)).toMatchObject({ history: [], nextRunAt: MON_0800_PARIS, accountedUntil: s.accountedUntil });
  expect(get(s.id).threadId).toBeUndefined();
  expect(h!.store.threads.list()).toEqual([]);
  expect(h!.eventsOf('schedule.updated')).toHaveLength(updates);

  // Room again: the next try, a few seconds on, records the occurrence and runs it, on time.
  diskFull(false);
  await clock.advance(RETRY_MS);
  const run = last(s.id);
  expect(run).toMatchObject({ dueAt: MON_0800_PARIS });
  expect(STARTED).toContain(run.outcome);
  expect(run.late).toBeUndefined();
  expect(run.reason).toBeUndefined();
  await h!.waitTask(run.taskId!, ['done']);
  await until('the run recorded as ran', () => last(s.id).outcome === 'ran');
  // One thread with one task: the run whose record failed never started, and nothing persisted it.
  const threads = h!.store.threads.list();
  expect(threads.map((t) => t.id)).toEqual([get(s.id).threadId]);
  expect((await h!.store.threads.load(threads[0].id)).tasks.map((t) => [t.id, t.state])).toEqual([
    [run.taskId, 'done'],
  ]);
  expect(server.requests).toHaveLength(1);
  // On disk once its record is committed (the in-memory state leads it by one append).
  await expect
    .poll(() =>
      schedulesOnDisk()
        .get(s.id)
        ?.history.map((o) => [o.dueAt, o.outcome]),
    )
    .toEqual([[MON_0800_PARIS, 'ran']]);
});

it('occurrences a full disk kept from being recorded say so, and are caught up by their rule once there is room', async () => {
  const { clock } = await boot(MON_0800_PARIS - MIN);
  const s = await create({ when: { kind: 'daily', time: '08:00' }, timeZone: 'Europe/Paris', catchUp: 'run' });
  diskFull(true);
  await clock.advance(4 * MIN);
  expect(get(s.id).history).toEqual([]);
  diskFull(false);
  await clock.advance(RETRY_MS);
  const run = last(s.id);
  expect(get(s.id).history).toHaveLength(1);
  expect(run).toMatchObject({
    dueAt: MON_0800_PARIS,
    late: true,
    reason: 'the disk was full, so Errand could not record it.',
  });
  expect(STARTED).toContain(run.outcome);
  await h!.waitTask(run.taskId!, ['done']);
  await until('the run recorded as ran', () => last(s.id).outcome === 'ran');
  expect(server.requests).toHaveLength(1);
});

it("a run's end that could not be recorded (disk full) is recorded at the next try, with its cost", async () => {
  server.push(
    { content: [toolUse('wait_for', { file: 'go' })], usage: costly },
    { content: [text('Brief ready.')], usage: { input_tokens: 10, output_tokens: 5 } },
  );
  const { clock } = await boot(MON_0700_PARIS);
  const s = await create({ when: { kind: 'daily', time: '08:00' }, timeZone: 'Europe/Paris' });
  const ran = await h!.send('schedule.run', { scheduleId: s.id });
  await server.waitForRequests(1);
  const settle = failNextAppend((ops) =>
    ops.some((o) => o.t === 'schedule' && JSON.stringify(o.d).includes('"outcome":"ran"')),
  );
  fs.writeFileSync(path.join(h!.tools.dir, 'go'), '');
  const task = await h!.waitTask(ran.taskId, ['done']);
  await until('the settle to fail', () => settle.failed());
  await mod!.engine.settled();
  // Not recorded, so not shown either: the entry is still running, as the journal has it.
  expect(last(s.id)).toMatchObject({ outcome: 'running', taskId: ran.taskId });
  expect(get(s.id).spentUsd).toBe(0);

  await clock.advance(RETRY_MS);
  expect(last(s.id)).toMatchObject({ outcome: 'ran', taskId: ran.taskId, costUsd: task.costUsd });
  expect(get(s.id).spentUsd).toBeCloseTo(task.costUsd, 9);
  expect(schedulesOnDisk().get(s.id)?.history.at(-1)).toMatchObject({ outcome: 'ran', costUsd: task.costUsd });
});

it('a run asked for from the CLI on a full disk fails and leaves no thread or task behind; with room it runs once', async () => {
  await boot(MON_0700_PARIS);
  const s = await create({ when: { kind: 'daily', time: '08:00' }, timeZone: 'Europe/Paris' });
  await h!.ctx.control.listen();
  try {
    diskFull(true);
    await expect(controlCall(h!.ctx.paths.socket, 'schedules.run', { scheduleId: s.id })).rejects.toThrow(/disk full/);
    expect(get(s.id).history).toEqual([]);
    expect(h!.store.threads.list()).toEqual([]);
    diskFull(false);
    const r = await controlCall(h!.ctx.paths.socket, 'schedules.run', { scheduleId: s.id });
    await h!.waitTask(r.taskId, ['done']);
    await until('the run recorded as ran', () => last(s.id).outcome === 'ran');
    expect(h!.store.threads.list().map((t) => t.id)).toEqual([r.threadId]);
    expect((await h!.store.threads.load(r.threadId)).tasks.map((t) => t.id)).toEqual([r.taskId]);
    expect(server.requests).toHaveLength(1);
  } finally {
    await h!.ctx.control.close();
  }
});

it('a wall clock set an hour forward, then corrected: the real occurrences after the correction still run on time', async () => {
  const t0 = Date.parse('2027-01-11T10:00:30Z');
  const at = (hhmm: string) => Date.parse(`2027-01-11T${hhmm}:00Z`);
  const { clock } = await boot(t0);
  const s = await create({ when: { kind: 'cron', expr: '*/10 * * * *' }, timeZone: 'UTC', catchUp: 'skip' });
  expect(s.nextRunAt).toBe(at('10:10'));
  // An hour forward: seen as a jump, the hour's occurrences recorded as missed (nothing caught up).
  clock.jump(HOUR);
  await clock.advance(MIN);
  expect(get(s.id)).toMatchObject({ accountedUntil: at('11:00'), nextRunAt: at('11:10') });
  const recorded = get(s.id).history.length;
  expect(last(s.id)).toMatchObject({ dueAt: at('11:00'), outcome: 'missed' });
  // Corrected: the schedule counts again from the real time, within the timer's next minute.
  clock.jump(-HOUR);
  await clock.advance(MIN);
  expect(get(s.id)).toMatchObject({ accountedUntil: at('10:02') + 30_000, nextRunAt: at('10:10') });
  expect(get(s.id).history).toHaveLength(recorded);
  await clock.advance(8 * MIN);
  const run = last(s.id);
  expect(run).toMatchObject({ dueAt: at('10:10') });
  expect(STARTED).toContain(run.outcome);
  expect(run.late).toBeUndefined();
  await h!.waitTask(run.taskId!, ['done']);
  expect(get(s.id).nextRunAt).toBe(at('10:20'));
  expect(server.requests).toHaveLength(1);
});

it('an every-N-hours schedule set back keeps its rhythm', async () => {
  const t0 = Date.parse('2027-01-11T06:00:00Z');
  const { clock } = await boot(t0);
  const s = await create({ when: { kind: 'every', hours: 2 }, timeZone: 'UTC', catchUp: 'skip' });
  clock.jump(5 * HOUR);
  await clock.advance(MIN);
  expect(get(s.id).accountedUntil).toBe(t0 + 4 * HOUR);
  clock.jump(-5 * HOUR);
  await clock.advance(MIN);
  // Counted from the last occurrence of the same rhythm at or before now: the next one is 08:00.
  expect(get(s.id)).toMatchObject({ accountedUntil: t0, nextRunAt: t0 + 2 * HOUR });
});
