// Calendar maths for schedules, in the schedule's time zone. A calendar rhythm (cron, daily,
// weekdays, once) names wall-clock times: croner finds them on a plain UTC calendar, where no time
// is skipped or repeated, and each one is then placed in the zone. Daylight-saving changes, as
// docs/protocol.md promises: a wall-clock time skipped by a spring-forward runs at the first valid
// time after it (the transition itself; several skipped times are one run), and a time repeated by
// a fall-back runs once, at its first instance (nothing runs during the repeated hour's second
// pass). "Every N hours" is elapsed time, so it is plain arithmetic.
import { Cron } from 'croner';
import {
  CRON_SHAPE,
  CRON_SHAPE_PROBLEM,
  calendarDateProblem,
  cronFrequencyProblem,
  type Schedule,
  type ScheduleWhen,
} from '../../../shared/src/index.js';

const HOUR = 3_600_000;
/** Occurrences `dueBetween` lists one by one at most; beyond that it says there were more. */
export const MAX_ENUMERATED = 2000;
/**
 * Occurrences `dueSince` lists one by one at most (a handful are shown one by one, more are folded
 * into one entry): past it, the newest two are found directly and the rest only counted, so a
 * frequent schedule after days off costs as little to account for as a daily one.
 */
export const MAX_LISTED = 8;
const DAY = 24 * HOUR;
/** Catch-up window for a one-off schedule (it has no period to halve). */
const ONCE_WINDOW_MS = HOUR;
/** Further than any offset from UTC (−12 h … +14 h): an offset seen this far away is the other side of a change. */
const BEYOND_OFFSETS = 26 * HOUR;

type Timed = Pick<Schedule, 'when' | 'timeZone' | 'accountedUntil'>;

// ---- wall-clock times ---------------------------------------------------------------------------
// A wall-clock time is written as the UTC instant with the same fields ("2027-11-07 01:30" in any
// zone is Date.UTC(2027, 10, 7, 1, 30)), so it can be compared and counted.

const formats = new Map<string, Intl.DateTimeFormat>();

function formatIn(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    if (formats.size > 500) formats.clear();
    formats.set(timeZone, f);
  }
  return f;
}

/** The wall clock in `timeZone` at instant `t`. */
function wallAt(timeZone: string, t: number): number {
  const p: Record<string, number> = {};
  for (const { type, value } of formatIn(timeZone).formatToParts(new Date(t))) p[type] = Number(value);
  const ms = ((t % 1000) + 1000) % 1000;
  return Date.UTC(p.year, p.month - 1, p.day, p.hour % 24, p.minute, p.second) + ms;
}

const offsetAt = (timeZone: string, t: number): number => wallAt(timeZone, t) - t;

/** The first instant in (lo, hi] whose offset is hi's: where the clocks changed. */
function changeAt(timeZone: string, lo: number, hi: number): number {
  const after = offsetAt(timeZone, hi);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(timeZone, mid) === after) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * The instant a wall-clock time happens in `timeZone`: its first instance when a fall-back repeats
 * it; the moment the clocks change (the first valid time after it) when a spring-forward skips it.
 */
export function instantOf(timeZone: string, wall: number): number {
  const before = offsetAt(timeZone, wall - BEYOND_OFFSETS);
  const after = offsetAt(timeZone, wall + BEYOND_OFFSETS);
  if (before === after) return wall - before;
  let first: number | undefined;
  for (const o of new Set([before, offsetAt(timeZone, wall), after])) {
    const t = wall - o;
    if (wallAt(timeZone, t) === wall && (first === undefined || t < first)) first = t;
  }
  if (first !== undefined) return first;
  // Skipped: it would be before the change in the new offset and after it in the old one.
  return changeAt(timeZone, wall - Math.max(before, after), wall - Math.min(before, after));
}

/**
 * The latest wall-clock time already used at instant `t`: its own wall clock, except during the
 * second pass of a repeated hour, when everything up to the fall-back has been used.
 */
function wallUsedBy(timeZone: string, t: number): number {
  const wall = wallAt(timeZone, t);
  const first = instantOf(timeZone, wall);
  if (first >= t) return wall;
  return wallAt(timeZone, changeAt(timeZone, first, t) - 1);
}

const cache = new Map<string, Cron>();

function patternOf(when: ScheduleWhen): string | undefined {
  switch (when.kind) {
    case 'cron':
      // One stored before sub-minute rhythms were refused runs once a minute (at second 0), not every
      // second: each run is a task.
      return cronFrequencyProblem(when.expr) ? `0 ${when.expr.trim().split(' ').slice(1).join(' ')}` : when.expr;
    case 'daily': {
      const [h, m] = when.time.split(':').map(Number);
      return `${m} ${h} * * *`;
    }
    case 'weekdays': {
      const [h, m] = when.time.split(':').map(Number);
      return `${m} ${h} * * 1-5`;
    }
    case 'once':
    case 'every':
      return undefined;
  }
}

/** The rhythm's wall-clock times, on a calendar without daylight saving (UTC). */
function wallCron(when: ScheduleWhen): Cron | undefined {
  const pattern = patternOf(when);
  if (pattern === undefined) return undefined;
  let c = cache.get(pattern);
  if (!c) {
    // A fixed offset of 0 is UTC without croner's time-zone lookups: about nine times faster a step.
    c = new Cron(pattern, { utcOffset: 0, paused: true });
    if (cache.size > 5000) cache.clear();
    cache.set(pattern, c);
  }
  return c;
}

/** A one-off's wall-clock time. */
function onceWall(at: string): number {
  const [y, mo, d, h, mi] = at.split(/[-T:]/).map(Number);
  return Date.UTC(y, mo - 1, d, h, mi);
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
  if (when.kind === 'cron' && !CRON_SHAPE.test(when.expr)) return `The schedule is not valid: ${CRON_SHAPE_PROBLEM}.`;
  // More often than once a minute (every second): refused ("every" is whole hours, by its schema).
  const tooOften = when.kind === 'cron' ? cronFrequencyProblem(when.expr) : undefined;
  if (tooOften) return tooOften;
  try {
    wallCron(when);
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

/**
 * A calendar rhythm's occurrences strictly after `after`, in order (endless for a repeating one).
 * Every wall-clock time up to the one `after` has used is behind; each next one is placed in the
 * zone, and several skipped times that land on the same change are one occurrence.
 */
function* calendarAfter(s: Timed, after: number): Generator<number> {
  if (s.when.kind === 'once') {
    const t = instantOf(s.timeZone, onceWall(s.when.at));
    if (t > after) yield t;
    return;
  }
  const c = wallCron(s.when);
  if (!c) return;
  let wall = wallUsedBy(s.timeZone, after);
  let last = after;
  // Times that collapse onto one already given: at most every second of a skipped stretch.
  for (let merged = 0; merged < 100_000; merged++) {
    const next = c.nextRun(new Date(wall))?.getTime();
    if (next === undefined) return;
    wall = next;
    const t = instantOf(s.timeZone, next);
    if (t > last) {
      yield t;
      last = t;
      merged = 0;
    }
  }
}

/** The first occurrence strictly after `after`, or undefined when there is none (a past one-off). */
export function nextDue(s: Timed, after = s.accountedUntil): number | undefined {
  if (s.when.kind === 'every') {
    const step = s.when.hours * HOUR;
    // Elapsed time from the last accounted occurrence.
    const k = Math.max(1, Math.floor((after - s.accountedUntil) / step) + 1);
    return s.accountedUntil + k * step;
  }
  for (const t of calendarAfter(s, after)) return t;
  return undefined;
}

/**
 * The wall-clock time ("YYYY-MM-DDTHH:MM") that the occurrence at `t` stands for when a spring-forward
 * skips it that day, so it runs at the change (`t`) instead; undefined when `t` is on its own time.
 */
export function skippedBy(s: Pick<Schedule, 'when' | 'timeZone'>, t: number | undefined): string | undefined {
  if (t === undefined || s.when.kind === 'every') return undefined;
  // Just before a spring-forward the wall clock reads the start of the gap; at `t`, its end.
  const before = wallAt(s.timeZone, t - 1);
  const after = wallAt(s.timeZone, t);
  if (after - before <= 1) return undefined;
  const wall = s.when.kind === 'once' ? onceWall(s.when.at) : wallCron(s.when)?.nextRun(new Date(before))?.getTime();
  if (wall === undefined || wall <= before || wall >= after) return undefined;
  return new Date(wall).toISOString().slice(0, 16);
}

/** The last occurrence due at or before `to` (after the last accounted one), or undefined. */
export function latestDue(s: Timed, to: number): number | undefined {
  if (s.when.kind === 'every') {
    const step = s.when.hours * HOUR;
    const k = Math.floor((to - s.accountedUntil) / step);
    return k >= 1 ? s.accountedUntil + k * step : undefined;
  }
  let t: number | undefined;
  if (s.when.kind === 'once') t = instantOf(s.timeZone, onceWall(s.when.at));
  else {
    const used = wallUsedBy(s.timeZone, to);
    const wall = wallCron(s.when)
      ?.previousRuns(2, new Date(used + 1000))
      .map((d) => d.getTime())
      .find((w) => w <= used);
    t = wall === undefined ? undefined : instantOf(s.timeZone, wall);
  }
  return t !== undefined && t <= to && t > s.accountedUntil ? t : undefined;
}

/** Occurrences due in (from, to]: the first `atMost` of them, and whether there were more. */
export function dueBetween(
  s: Timed,
  from: number,
  to: number,
  atMost = MAX_ENUMERATED,
): { times: number[]; more: boolean } {
  const times: number[] = [];
  const all = s.when.kind === 'every' ? everyAfter(s, from) : calendarAfter(s, from);
  for (const t of all) {
    if (t > to) break;
    if (times.length === atMost) return { times, more: true };
    times.push(t);
  }
  return { times, more: false };
}

export interface DueSince {
  /** The occurrences due, oldest first: all of them, or (when `total` is set) the oldest few and the newest two. */
  times: number[];
  /** How many were due in all, when `times` does not list them all; not `exact`: at least that many. */
  total?: { count: number; exact: boolean };
}

/**
 * The occurrences due after the last accounted one, up to `to`, in bounded work however long the
 * gap: at most MAX_LISTED listed one by one; past that, the newest two are found directly and all
 * are counted: exactly for "every N hours", daily and weekday times, as "at least" for a cron
 * rhythm (counting one means listing it).
 */
export function dueSince(s: Timed, to: number): DueSince {
  const { times, more } = dueBetween(s, s.accountedUntil, to, MAX_LISTED);
  const newest = more ? latestDue(s, to) : undefined;
  if (newest === undefined) return { times };
  const beforeNewest = latestDue(s, newest - 1);
  const known = [...new Set([...times, ...(beforeNewest === undefined ? [] : [beforeNewest]), newest])];
  known.sort((a, b) => a - b);
  const count = countBetween(s, times[0], newest);
  return { times: known, total: count === undefined ? { count: known.length, exact: false } : { count, exact: true } };
}

/** How many occurrences from `first` to `last`, both occurrences, without listing them; undefined for a cron rhythm. */
function countBetween(s: Timed, first: number, last: number): number | undefined {
  const dayOf = (t: number) => Math.floor(wallAt(s.timeZone, t) / DAY);
  switch (s.when.kind) {
    case 'every':
      return Math.round((last - first) / (s.when.hours * HOUR)) + 1;
    case 'daily':
      // Once a local day: a time a spring-forward skips runs at the change, a repeated one once.
      return dayOf(last) - dayOf(first) + 1;
    case 'weekdays': {
      let n = 0;
      const end = dayOf(last);
      // Day 0 (1970-01-01) was a Thursday: Monday to Friday are 1 to 5 of (day + 4) % 7.
      for (let d = dayOf(first); d <= end; d++) if ((d + 4) % 7 >= 1 && (d + 4) % 7 <= 5) n++;
      return n;
    }
    default:
      return undefined;
  }
}

function* everyAfter(s: Timed, after: number): Generator<number> {
  for (let t = nextDue(s, after); t !== undefined; t = nextDue(s, t)) yield t;
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
