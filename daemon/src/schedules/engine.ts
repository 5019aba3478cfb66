// The timetable: one timer for the next due occurrence of any schedule, and the accounting of every
// occurrence (ran, failed, interrupted, cancelled, skipped by the overlap rule, missed while Errand
// was not running or the computer slept). Missed ones are found at start and when the timer fires
// far later than it was set for (a wall-clock jump: sleep), then caught up, skipped or asked about
// by the schedule's rule. A schedule change and its event are one journal record, and an undoable
// one: when it cannot be written (disk full) the schedule, and the thread and task a run would have
// started, are put back as the journal has them, and the run never starts; the timer tries again
// a few seconds later (a run's end too), and occurrences the full disk kept from being recorded
// say so.
import crypto from 'node:crypto';
import type { Occurrence, Schedule, ServerEvent, Task, TaskState } from '../../../shared/src/index.js';
import { DiskFullError, type Journal } from '../store/journal.js';
import { HISTORY_LIMIT, type ScheduleStore } from '../store/schedules.js';
import type { Logger } from '../util/log.js';
import { catchUpWindowMs, dueSince, nextDue, skippedBy } from './timing.js';
import { timingChanged } from './timing-changed.js';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * Starts a schedule's run as a task in its thread; inside the caller's journal transaction, so the
 * task is undone with it when its record fails (and a task not recorded never runs).
 */
export interface RunStarter {
  start(s: Schedule): Promise<{ taskId: string; threadId: string }>;
  /** The task as it is now (its state, and once it ended its reason and cost); undefined when it no longer exists. */
  task(taskId: string): Pick<Task, 'state' | 'reason' | 'costUsd'> | undefined;
}

export interface EngineDeps {
  store: ScheduleStore;
  journal: Journal;
  clock: Clock;
  runs: RunStarter;
  emit(e: ServerEvent): Promise<unknown>;
  log: Logger;
  /** A missed occurrence waits for the user's Run or Skip (catch-up rule "ask"). */
  onAsk?(s: Schedule, occ: Occurrence): void;
}

/** The longest the timer sleeps: a timer set before a sleep fires late by the sleep, which is how a wake is seen. */
export const WATCH_MS = 60_000;
/** A timer this late means the wall clock jumped (the computer slept). */
export const JUMP_MS = 30_000;
/**
 * The wall clock set back this far behind what a schedule has already accounted for (a clock set
 * forward by mistake, then corrected): the schedule counts again from now, though never back to an
 * occurrence it has already acted on. Less is ordinary drift (and nothing accounted is ever run
 * again for it).
 */
export const BACK_MS = JUMP_MS;
/** An occurrence the timer starts this late (a busy event loop) still counts as on time. */
export const LATE_MS = 60_000;
/** After a record that could not be written (disk full), the timer tries again this much later. */
export const RETRY_MS = 5000;
/**
 * Missed occurrences beyond this many in a row are folded into one history entry with a count
 * (below timing.ts MAX_LISTED, so more than `dueSince` lists one by one are always folded).
 */
const UNFOLDED = 5;

const ACTIVE_TASK = new Set<TaskState>(['queued', 'running', 'waiting']);
const OUTCOME_OF: Partial<Record<TaskState, Occurrence['outcome']>> = {
  done: 'ran',
  failed: 'failed',
  interrupted: 'interrupted',
  cancelled: 'cancelled',
};

type Cause = 'start' | 'timer' | 'wake';
const MISSED_BECAUSE: Record<Cause, string> = {
  start: 'Errand was not running',
  wake: 'the computer was asleep',
  timer: 'Errand could not start it on time',
};
/** Why occurrences were missed while their schedule's records failed because the disk was full. */
const MISSED_DISK_FULL = 'the disk was full, so Errand could not record it';
/** A missed occurrence whose real time had not come: the clock was ahead, then set right. */
const MISSED_CLOCK_AHEAD = 'recorded while the clock was ahead; due again at its real time.';

/** Lets sockets, timers and other commands run between two schedules' accounting. */
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The latest calendar occurrence the schedule has acted on: run (whatever came of it), refused
 * before it started, skipped by the overlap rule, or answered Run or Skip by the user. Whatever the
 * clock does, nothing at or before it runs again. An occurrence only recorded as missed is not
 * one: when the clock was ahead, its real time is still to come. A full history may have dropped
 * older entries, so nothing before its oldest one is run again either.
 */
function actedUntil(s: Schedule): number | undefined {
  let until: number | undefined;
  const calendar = s.history.filter((o) => !o.manual);
  for (const o of calendar) {
    const acted = o.outcome !== 'missed' || o.taskId !== undefined || o.ask === 'run' || o.ask === 'skip';
    if (acted && (until === undefined || o.dueAt > until)) until = o.dueAt;
  }
  if (s.history.length >= HISTORY_LIMIT && calendar.length) {
    const oldest = Math.min(...calendar.map((o) => o.dueAt));
    if (until === undefined || oldest > until) until = oldest;
  }
  return until;
}

export const newOccurrenceId = () => `occ_${crypto.randomBytes(6).toString('base64url')}`;

/** A catch-up window in words: seconds under a minute (never "0 min"), then minutes, then hours. */
function minutes(ms: number): string {
  if (ms < 60_000) return `${Math.max(1, Math.round(ms / 1000))} s`;
  const m = Math.round(ms / 60_000);
  return m < 120 ? `${m} min` : `${Math.round(m / 60)} h`;
}

/**
 * Where `s` counts again from when the wall clock was set back more than BACK_MS behind what it has
 * accounted for: now (for an "every N hours" rhythm, its last step at or before now, so it keeps
 * its phase), but never at or before an occurrence it has acted on. Undefined when the clock was
 * not set back, or nothing after that occurrence is left to count again.
 */
function recountFrom(s: Schedule, now: number): number | undefined {
  if (s.state === 'paused' || s.accountedUntil - now <= BACK_MS) return undefined;
  const acted = actedUntil(s);
  let from = Math.max(now, acted ?? now);
  if (s.when.kind === 'every') {
    const step = s.when.hours * 3_600_000;
    const stepAtOrBefore = (t: number) => s.accountedUntil - Math.ceil((s.accountedUntil - t) / step) * step;
    const stepAtOrAfter = (t: number) => s.accountedUntil - Math.floor((s.accountedUntil - t) / step) * step;
    from = acted === undefined ? stepAtOrBefore(now) : Math.max(stepAtOrBefore(now), stepAtOrAfter(acted));
  }
  return from < s.accountedUntil ? from : undefined;
}

export class ScheduleEngine {
  private timer: unknown;
  private expectedAt = 0;
  /** After a record that failed (disk full): when to try again (0: nothing to try again). */
  private retryAt = 0;
  /** Schedules whose last accounting could not be written because the disk was full. */
  private diskFull = new Set<string>();
  /** Runs whose end could not be recorded (disk full): task → schedule, tried again at each tick. */
  private unsettled = new Map<string, string>();
  private lock: Promise<unknown> = Promise.resolve();
  private stopped = false;
  /** Task → schedule, for the tasks of occurrences still being accounted. */
  private byTask = new Map<string, string>();

  constructor(private readonly d: EngineDeps) {}

  /** Run `fn` after every earlier change (ticks, commands, task outcomes never interleave). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  /**
   * Recover the runs still open, then account for what happened while Errand was not running and
   * arm the timer. That catch-up is queued, not awaited: with many schedules it takes a while, and
   * the daemon listens meanwhile (schedule commands wait for it; `settled()` does too).
   */
  async start(): Promise<void> {
    await this.exclusive(async () => {
      // Runs still going, and interrupted ones (they can be resumed and still end as ran or failed).
      const open: Array<{ taskId: string; scheduleId: string; outcome: Occurrence['outcome'] }> = [];
      for (const s of this.d.store.list())
        for (const o of s.history)
          if (o.taskId && (o.outcome === 'running' || o.outcome === 'interrupted'))
            open.push({ taskId: o.taskId, scheduleId: s.id, outcome: o.outcome });
      for (const { taskId, scheduleId, outcome } of open) {
        const task = this.d.runs.task(taskId);
        const state = task?.state;
        if (state !== undefined && (ACTIVE_TASK.has(state) || state === 'interrupted'))
          this.byTask.set(taskId, scheduleId);
        // Runs whose task ended (or vanished) while no one was listening: recorded with the task's own
        // outcome, reason and cost, as if its end had been heard (a crash between the task's "done"
        // and this record must not lose what the run cost).
        const now = state === undefined ? 'interrupted' : (OUTCOME_OF[state] ?? 'running');
        if (now !== outcome && now !== 'running')
          await this.settle(scheduleId, taskId, state, { reason: task?.reason, costUsd: task?.costUsd });
      }
    });
    void this.tick('start').catch((err) =>
      this.d.log.error('could not account for the schedules at start; trying again soon', { err: String(err) }),
    );
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.d.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Settle with every queued change (tests, stop). */
  async settled(): Promise<void> {
    await this.exclusive(async () => undefined);
  }

  // ---- the timer ------------------------------------------------------------------------------

  private arm(): void {
    if (this.stopped) return;
    const now = this.d.clock.now();
    // A timer already late by a sleep and set again before it fired (an edit right after a wake):
    // the new one still reports the wake, so what the others missed says the computer was asleep.
    const sleptThrough = this.timer !== undefined && this.dueCause(now) === 'wake';
    if (this.timer !== undefined) this.d.clock.clearTimeout(this.timer);
    let next = Number.POSITIVE_INFINITY;
    for (const s of this.d.store.list())
      if (s.state === 'active' && s.nextRunAt !== undefined && s.nextRunAt < next) next = s.nextRunAt;
    // After a record that failed: again in a few seconds (the due work with it), neither at once (a
    // spin while the disk stays full) nor only at the next due time (a run's end waits to be recorded).
    const delay =
      this.retryAt > 0
        ? Math.max(0, Math.min(this.retryAt - now, WATCH_MS))
        : Math.max(0, Math.min(next - now, WATCH_MS));
    if (!sleptThrough) this.expectedAt = now + delay;
    this.timer = this.d.clock.setTimeout(() => {
      this.timer = undefined;
      const firedAt = this.d.clock.now();
      const late = firedAt - this.expectedAt;
      const cause = this.dueCause(firedAt);
      if (cause === 'wake') this.d.log.info('the clock jumped: the computer slept', { lateMs: late });
      else if (late < -JUMP_MS) this.d.log.info('the clock went back', { byMs: -late });
      void this.tick(cause);
    }, delay);
  }

  /** Why what is due at `now` has not been accounted for yet: the timer is late by a sleep, or just due. */
  private dueCause(now: number): 'wake' | 'timer' {
    return now - this.expectedAt > JUMP_MS ? 'wake' : 'timer';
  }

  /** Record the runs' ends that failed before, account for every occurrence due by now, then re-arm. */
  tick(cause: Cause): Promise<void> {
    return this.exclusive(async () => {
      const now = this.d.clock.now();
      this.retryAt = 0;
      try {
        await this.retrySettles();
        for (const s of this.d.store.list()) {
          if (this.stopped) break;
          const recount = recountFrom(s, now) !== undefined;
          // An ended one-off comes back only when the clock was set back before its time (it had not run).
          if (s.state !== 'active' && !(s.state === 'ended' && recount)) continue;
          if (!recount && (s.nextRunAt === undefined || s.nextRunAt > now)) continue;
          // Many schedules to account for (a long time off): the event loop runs between them.
          await breathe();
          const asks: Occurrence[] = [];
          try {
            await this.commit(() => this.account(s.id, now, cause, asks));
          } catch (err) {
            this.failed();
            if (err instanceof DiskFullError) this.diskFull.add(s.id);
            this.d.log.error('could not account for a schedule; trying again soon', {
              schedule: s.id,
              err: String(err),
            });
            continue;
          }
          this.diskFull.delete(s.id);
          // Asked once the question is recorded (never about an occurrence the journal does not have).
          const asked = this.d.store.get(s.id);
          if (asked) for (const occ of asks) this.d.onAsk?.(asked, occ);
        }
      } finally {
        this.arm();
      }
    });
  }

  /**
   * Run `fn` as one undoable journal transaction: when its record cannot be written, the stores put
   * back what it changed in memory (a schedule, a run's thread and task), so memory stays what the
   * journal has, and a task it made is gone before its run would start.
   */
  private commit(fn: () => Promise<void>): Promise<void> {
    return this.d.journal.transaction(fn, undefined, { undoable: true });
  }

  /** A record failed: try again a little later. */
  private failed(): void {
    this.retryAt = this.d.clock.now() + RETRY_MS;
  }

  private async account(id: string, now: number, cause: Cause, asks: Occurrence[]): Promise<void> {
    const s = this.d.store.get(id);
    if (!s) return;
    const from = recountFrom(s, now);
    if (from !== undefined) return this.countFromNow(s, from, now);
    if (s.state !== 'active') return;
    // Many due (a long sleep of a frequent schedule): the oldest few and the newest two, and a count.
    const { times, total } = dueSince(s, now);
    if (!times.length) return this.save({ ...s, nextRunAt: nextDue(s) });
    const last = times[times.length - 1];
    // Due while Errand was down or the computer slept: missed, whatever the rule then does with it.
    const onTime = cause === 'timer' && !total && now - last <= LATE_MS;
    const missed = onTime ? times.slice(0, -1) : times;
    // A newer occurrence is due: an older "run the missed one?" question is stale now.
    const history = s.history.map((o) => (o.ask === 'open' ? { ...o, ask: 'expired' as const } : o));
    let next: Schedule = { ...s, history };
    if (missed.length) {
      // Still due when the disk was full: the records failed, not Errand or the computer.
      const why = cause === 'timer' && this.diskFull.has(id) ? MISSED_DISK_FULL : MISSED_BECAUSE[cause];
      const latest = missed[missed.length - 1];
      const earlier = missed.slice(0, -1);
      const earlierCount = total ? total.count - 1 : earlier.length;
      if (earlierCount > UNFOLDED) {
        history.push({
          id: newOccurrenceId(),
          dueAt: earlier[0] ?? latest,
          lastDueAt: earlier[earlier.length - 1] ?? latest,
          count: Math.max(2, earlierCount),
          outcome: 'missed',
          reason: `${total && !total.exact ? 'At least ' : ''}${earlierCount} occurrences missed: ${why}.`,
        });
      } else
        for (const t of earlier)
          history.push({ id: newOccurrenceId(), dueAt: t, outcome: 'missed', reason: `${why}.` });
      const occ: Occurrence = { id: newOccurrenceId(), dueAt: latest, outcome: 'missed', reason: `${why}.` };
      if (!onTime) {
        const window = catchUpWindowMs(s, latest);
        if (s.catchUp === 'run' && now - latest <= window) {
          history.push(occ);
          next = await this.begin(next, occ, { late: true });
        } else if (s.catchUp === 'run') {
          history.push({
            ...occ,
            reason: `${why}; too late to catch up (more than ${minutes(window)} after its time).`,
          });
        } else if (s.catchUp === 'skip') {
          history.push({ ...occ, reason: `${why}; not caught up (its rule is skip).` });
        } else {
          const asked: Occurrence = { ...occ, ask: 'open' };
          history.push(asked);
          asks.push(asked);
        }
      } else history.push(occ);
    }
    if (onTime) {
      const occ: Occurrence = { id: newOccurrenceId(), dueAt: last, outcome: 'missed' };
      history.push(occ);
      next = await this.begin(next, occ, {});
    }
    next = { ...next, accountedUntil: last };
    next.nextRunAt = nextDue(next);
    if (next.nextRunAt === undefined) next.state = 'ended';
    await this.save(next);
  }

  /**
   * The wall clock went back before what `s` has accounted for (set forward by mistake, then
   * corrected): it counts again from `from` (now, or the latest occurrence it acted on), so the real
   * ones still to come run, a one-off that had only been missed included. The entries recorded as
   * missed since `from` stay in its history, saying the clock was ahead (a question about one
   * expires: it comes again at its time).
   */
  private async countFromNow(s: Schedule, from: number, now: number): Promise<void> {
    this.d.log.warn('the clock went back: the schedule counts again from now', {
      schedule: s.id,
      accountedUntil: new Date(s.accountedUntil).toISOString(),
      now: new Date(now).toISOString(),
    });
    const history = s.history.map((o) =>
      o.outcome === 'missed' && !o.manual && o.taskId === undefined && o.dueAt > from
        ? { ...o, reason: MISSED_CLOCK_AHEAD, ...(o.ask === 'open' ? { ask: 'expired' as const } : {}) }
        : o,
    );
    const next: Schedule = { ...s, history, accountedUntil: from };
    next.nextRunAt = nextDue(next);
    next.state = next.nextRunAt === undefined ? 'ended' : 'active';
    await this.save(next);
  }

  /**
   * Start a run for `occ` (already in `s.history`): the overlap rule first (a run still going means
   * this one is skipped), then a task in the schedule's thread. Returns the changed schedule.
   */
  private async begin(s: Schedule, occ: Occurrence, opts: { late?: boolean; manual?: boolean }): Promise<Schedule> {
    const history = s.history;
    const i = history.findIndex((o) => o.id === occ.id);
    if (this.activeRun(s) !== undefined) {
      history[i] = {
        ...history[i],
        outcome: 'skipped',
        reason: `The previous run was still going${opts.late ? ` (this one had been missed: ${history[i].reason ?? ''})` : ''}.`,
      };
      return s;
    }
    let started: { taskId: string; threadId: string };
    try {
      started = await this.d.runs.start(s);
    } catch (err) {
      // Refused before anything was made (a spending cap reached, Errand stopping): say so, never drop it.
      history[i] = {
        ...history[i],
        outcome: 'failed',
        reason: `Not started: ${(err as Error).message}`,
        endedAt: this.d.clock.now(),
      };
      return s;
    }
    const { taskId, threadId } = started;
    this.byTask.set(taskId, s.id);
    this.onFail(() => this.byTask.delete(taskId));
    const now = this.d.clock.now();
    history[i] = {
      ...history[i],
      outcome: 'running',
      taskId,
      startedAt: now,
      ...(opts.late ? { late: true } : {}),
      ...(opts.manual ? { manual: true } : {}),
    };
    return { ...s, threadId };
  }

  /**
   * The task of this schedule's run still going, if any: the runs being accounted for (a run that
   * outlasts the history, an interrupted one the user resumed), then the history's open entries.
   */
  private activeRun(s: Schedule): string | undefined {
    const active = (taskId: string) => ACTIVE_TASK.has(this.d.runs.task(taskId)?.state ?? 'done');
    for (const [taskId, scheduleId] of this.byTask) if (scheduleId === s.id && active(taskId)) return taskId;
    return s.history.find(
      (o) => o.taskId && (o.outcome === 'running' || o.outcome === 'interrupted') && active(o.taskId),
    )?.taskId;
  }

  /** In an undoable transaction: `undo` runs if its record cannot be written. */
  private onFail(undo: () => void): void {
    const tx = this.d.journal.current();
    if (tx?.undoable) tx.failHooks.push(undo);
  }

  private async save(s: Schedule): Promise<void> {
    const changed: Schedule = { ...s, updatedAt: this.d.clock.now() };
    // The next run's own time, when a spring-forward skips it that day (it runs at the change).
    const skipped = s.state === 'active' ? skippedBy(s, s.nextRunAt) : undefined;
    if (skipped) changed.nextRunSkipped = skipped;
    else delete changed.nextRunSkipped;
    await this.d.store.put(changed);
    await this.d.emit({ kind: 'schedule.updated', schedule: this.d.store.get(s.id)! });
  }

  // ---- task outcomes --------------------------------------------------------------------------

  /** A task changed state: a run's outcome is recorded when its task ends. */
  taskUpdated(taskId: string, state: TaskState, extra: { reason?: string; costUsd?: number } = {}): void {
    const scheduleId = this.byTask.get(taskId);
    if (!scheduleId || ACTIVE_TASK.has(state)) return;
    void this.exclusive(() => this.settle(scheduleId, taskId, state, extra));
  }

  /** Record a run's end; when that cannot be written (disk full), the next tick, a few seconds on, tries again. */
  private async settle(
    scheduleId: string,
    taskId: string,
    state: TaskState | undefined,
    extra: { reason?: string; costUsd?: number },
  ): Promise<void> {
    try {
      await this.commit(() => this.settleRun(scheduleId, taskId, state, extra));
      this.unsettled.delete(taskId);
    } catch (err) {
      this.unsettled.set(taskId, scheduleId);
      this.failed();
      this.arm();
      this.d.log.error('could not record a scheduled run; trying again soon', { taskId, err: String(err) });
    }
  }

  /** The runs' ends that could not be recorded, again, as their tasks are now. */
  private async retrySettles(): Promise<void> {
    for (const [taskId, scheduleId] of [...this.unsettled]) {
      const task = this.d.runs.task(taskId);
      // Going again (an interrupted run the user resumed): recorded when it ends.
      if (task && ACTIVE_TASK.has(task.state)) {
        this.unsettled.delete(taskId);
        continue;
      }
      await this.settle(scheduleId, taskId, task?.state, { reason: task?.reason, costUsd: task?.costUsd });
    }
  }

  private async settleRun(
    scheduleId: string,
    taskId: string,
    state: TaskState | undefined,
    extra: { reason?: string; costUsd?: number } = {},
  ): Promise<void> {
    const s = this.d.store.get(scheduleId);
    if (!s) {
      this.byTask.delete(taskId);
      return;
    }
    const outcome = state ? (OUTCOME_OF[state] ?? 'interrupted') : 'interrupted';
    const history = [...s.history];
    let i = history.findIndex((o) => o.taskId === taskId);
    if (i < 0) {
      // Its entry is gone (only past the history's hard bound): the outcome and cost still count.
      this.d.log.warn('a scheduled run ended after its history entry was dropped', { schedule: s.id, taskId });
      const now = this.d.clock.now();
      i = history.push({ id: newOccurrenceId(), dueAt: now, outcome, taskId }) - 1;
    }
    const o = history[i];
    // An interrupted run can be resumed: keep listening until it really ends.
    if ((outcome !== 'interrupted' || state === undefined) && this.byTask.delete(taskId))
      this.onFail(() => this.byTask.set(taskId, scheduleId));
    history[i] = {
      ...o,
      outcome,
      endedAt: this.d.clock.now(),
      ...(extra.costUsd !== undefined ? { costUsd: extra.costUsd } : {}),
      ...(state === undefined
        ? { reason: 'Its task no longer exists.' }
        : extra.reason && outcome !== 'ran'
          ? { reason: extra.reason }
          : {}),
    };
    // A cost replaces the one the entry had (an interrupted run resumed costs more); no cost known
    // changes nothing (the spend never goes down).
    const spent = extra.costUsd !== undefined ? extra.costUsd - (o.costUsd ?? 0) : 0;
    await this.save({ ...s, history, spentUsd: Math.max(0, s.spentUsd + spent) });
  }

  // ---- changes asked for by the user (inside their command's transaction) ----------------------

  /** Add a schedule; undefined, and nothing added, when the home already has `atMost`. */
  async add(s: Schedule, atMost = Number.POSITIVE_INFINITY): Promise<Schedule | undefined> {
    return this.exclusive(async () => {
      // Counted in the queue, so creates arriving together cannot pass the bound between them.
      if (this.d.store.list().length >= atMost) return undefined;
      const first = nextDue(s);
      await this.save({ ...s, nextRunAt: first, state: first === undefined ? 'ended' : s.state });
      this.arm();
      return this.d.store.get(s.id)!;
    });
  }

  /**
   * Change a schedule's fields (pause and resume too); `when`/time-zone changes count from now. What
   * is already due is accounted for first, as the timer would have: right after a wake the timer
   * fires up to a minute late, and an edit in that minute must not drop what the sleep missed.
   */
  async edit(id: string, change: (s: Schedule) => Schedule): Promise<Schedule | undefined> {
    return this.exclusive(async () => {
      let s = this.d.store.get(id);
      if (!s) return undefined;
      const now = this.d.clock.now();
      if (s.state === 'active' && s.nextRunAt !== undefined && s.nextRunAt <= now) {
        await this.accountDue(id, now);
        s = this.d.store.get(id);
        if (!s) return undefined;
      }
      let next = change({ ...s });
      if (next.state === 'active') {
        const retimed = timingChanged(s, next) || s.state !== 'active';
        // Occurrences while paused are not missed: the user chose not to run them.
        if (retimed) next = { ...next, accountedUntil: Math.max(s.accountedUntil, now) };
        next.nextRunAt = nextDue(next);
        if (next.nextRunAt === undefined) next.state = 'ended';
      } else next = { ...next, nextRunAt: undefined };
      await this.save(next);
      this.arm();
      return this.d.store.get(id);
    });
  }

  /**
   * Account for what `id` has due at `now`, as a tick would, inside the caller's transaction (its
   * own when there is none); a "run the missed one?" question is asked once it is recorded.
   */
  private async accountDue(id: string, now: number): Promise<void> {
    const asks: Occurrence[] = [];
    await this.commit(() => this.account(id, now, this.dueCause(now), asks));
    if (!asks.length) return;
    this.d.journal.afterCommit(() => {
      // Only a question the journal has (a record that failed took it back out of memory).
      const asked = this.d.store.get(id);
      for (const occ of asks)
        if (asked?.history.some((o) => o.id === occ.id && o.ask === 'open')) this.d.onAsk?.(asked, occ);
    });
  }

  async remove(id: string): Promise<boolean> {
    return this.exclusive(async () => {
      if (!this.d.store.get(id)) return false;
      await this.d.store.remove(id);
      await this.d.emit({ kind: 'schedule.removed', scheduleId: id });
      this.arm();
      return true;
    });
  }

  /** "Run now": a manual occurrence; refused (undefined) while the previous run is still going. */
  async runNow(
    id: string,
  ): Promise<{ schedule: Schedule; occurrence: Occurrence } | 'busy' | { refused: string } | undefined> {
    return this.exclusive(async () => {
      const s = this.d.store.get(id);
      if (!s) return undefined;
      const occ: Occurrence = { id: newOccurrenceId(), dueAt: this.d.clock.now(), outcome: 'missed', manual: true };
      const next = await this.begin({ ...s, history: [...s.history, occ] }, occ, { manual: true });
      const made = next.history.find((o) => o.id === occ.id)!;
      if (made.outcome === 'skipped') return 'busy';
      // Asked for now and refused now (a spending cap): the answer says why; nothing to account for.
      if (made.outcome === 'failed') return { refused: (made.reason ?? '').replace(/^Not started: /, '') };
      await this.save(next);
      return { schedule: this.d.store.get(id)!, occurrence: made };
    });
  }

  /** The user's answer to "run the missed occurrence now?". */
  async decide(
    id: string,
    occurrenceId: string,
    decision: 'run' | 'skip',
  ): Promise<Schedule | 'not_open' | 'busy' | { refused: string } | undefined> {
    return this.exclusive(async () => {
      const s = this.d.store.get(id);
      if (!s) return undefined;
      const i = s.history.findIndex((o) => o.id === occurrenceId);
      if (i < 0 || s.history[i].ask !== 'open') return 'not_open';
      const history = [...s.history];
      history[i] = { ...history[i], ask: decision };
      let next: Schedule = { ...s, history };
      if (decision === 'run') {
        next = await this.begin(next, history[i], { late: true });
        const made = next.history[i];
        if (made.outcome === 'skipped') return 'busy';
        // Refused before it started (a spending cap), as "Run now" is: nothing saved, so the question
        // stays open to answer again once the cap is raised, and the answer says why.
        if (made.outcome === 'failed' && made.taskId === undefined)
          return { refused: (made.reason ?? '').replace(/^Not started: /, '') };
      }
      await this.save(next);
      return this.d.store.get(id);
    });
  }
}
