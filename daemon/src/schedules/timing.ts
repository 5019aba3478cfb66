// Calendar maths for schedules, in the schedule's time zone (croner does the work, DST included:
// a time skipped by a spring-forward runs at the first valid time after it, a time repeated by a
// fall-back runs once). "Every N hours" is elapsed time, so it is plain arithmetic.
import { Cron } from 'croner';
import {
  CRON_SHAPE,
  CRON_SHAPE_PROBLEM,
  calendarDateProblem,
  type Schedule,
  type ScheduleWhen,
} from '../../../shared/src/index.js';

const HOUR = 3_600_000;
/** Missed occurrences enumerated one by one at most; beyond that they are counted as "at least". */
export const MAX_ENUMERATED = 2000;
/** Catch-up window for a one-off schedule (it has no period to halve). */
const ONCE_WINDOW_MS = HOUR;

type Timed = Pick<Schedule, 'when' | 'timeZone' | 'accountedUntil'>;

const cache = new Map<string, Cron>();

function patternOf(when: ScheduleWhen): string | undefined {
  switch (when.kind) {
    case 'cron':
      return when.expr;
    case 'once':
      return `${when.at}:00`;
    case 'daily': {
      const [h, m] = when.time.split(':').map(Number);
      return `${m} ${h} * * *`;
    }
    case 'weekdays': {
      const [h, m] = when.time.split(':').map(Number);
      return `${m} ${h} * * 1-5`;
    }
    case 'every':
      return undefined;
  }
}

function cronOf(when: ScheduleWhen, timeZone: string): Cron | undefined {
  const pattern = patternOf(when);
  if (pattern === undefined) return undefined;
  const key = `${timeZone}\u0000${pattern}`;
  let c = cache.get(key);
  if (!c) {
    c = new Cron(pattern, { timezone: timeZone, paused: true });
    if (cache.size > 5000) cache.clear();
    cache.set(key, c);
  }
  return c;
}

/** Why `when` cannot be used in `timeZone`, in a sentence; undefined when it is fine. */
export function whenProblem(when: ScheduleWhen, timeZone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    return `"${timeZone}" is not a time zone (use a name such as Europe/Paris or America/New_York).`;
  }
  if (when.kind === 'once') {
    const problem = calendarDateProblem(when.at);
    if (problem) return problem;
  }
  if (when.kind === 'cron' && !CRON_SHAPE.test(when.expr))
    return `The schedule is not valid: ${CRON_SHAPE_PROBLEM}.`;
  try {
    cronOf(when, timeZone);
  } catch (err) {
    return `The schedule is not valid: ${(err as Error).message}.`;
  }
  return undefined;
}

/** The host's time zone, the default for schedules made without one. */
// Making a DateTimeFormat costs ~1 ms; this runs per task. Node fixes its default zone at start
// (only a change of process.env.TZ moves it), so the answer is kept per TZ value.
let zoneFor: { tz: string | undefined; zone: string } | undefined;

export function hostTimeZone(): string {
  if (zoneFor?.tz !== process.env.TZ || !zoneFor)
    zoneFor = { tz: process.env.TZ, zone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC' };
  return zoneFor.zone;
}

/** The first occurrence strictly after `after`, or undefined when there is none (a past one-off). */
export function nextDue(s: Timed, after = s.accountedUntil): number | undefined {
  if (s.when.kind === 'every') {
    const step = s.when.hours * HOUR;
    // Elapsed time from the last accounted occurrence.
    const k = Math.max(1, Math.floor((after - s.accountedUntil) / step) + 1);
    return s.accountedUntil + k * step;
  }
  return cronOf(s.when, s.timeZone)?.nextRun(new Date(after))?.getTime() ?? undefined;
}

/** The last occurrence due at or before `to` (after the last accounted one), or undefined. */
export function latestDue(s: Timed, to: number): number | undefined {
  if (s.when.kind === 'every') {
    const step = s.when.hours * HOUR;
    const k = Math.floor((to - s.accountedUntil) / step);
    return k >= 1 ? s.accountedUntil + k * step : undefined;
  }
  const prev = cronOf(s.when, s.timeZone)
    ?.previousRuns(2, new Date(to + 1000))
    .map((d) => d.getTime())
    .find((t) => t <= to);
  return prev !== undefined && prev > s.accountedUntil ? prev : undefined;
}

/** Occurrences due in (from, to]: the first MAX_ENUMERATED of them, and whether there were more. */
export function dueBetween(s: Timed, from: number, to: number): { times: number[]; more: boolean } {
  const times: number[] = [];
  let t = nextDue(s, from);
  while (t !== undefined && t <= to) {
    if (times.length === MAX_ENUMERATED) return { times, more: true };
    times.push(t);
    t = nextDue(s, t);
  }
  return { times, more: false };
}

/** How long after its time a missed occurrence may still be caught up. */
export function catchUpWindowMs(s: Timed & Pick<Schedule, 'catchUpWindowMinutes'>, dueAt: number): number {
  if (s.catchUpWindowMinutes) return s.catchUpWindowMinutes * 60_000;
  if (s.when.kind === 'once') return ONCE_WINDOW_MS;
  if (s.when.kind === 'every') return (s.when.hours * HOUR) / 2;
  const next = nextDue(s, dueAt);
  return next === undefined ? ONCE_WINDOW_MS : (next - dueAt) / 2;
}

export { describeWhen } from '../../../shared/src/index.js';
