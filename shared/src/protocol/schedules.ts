// Scheduled errands: a saved task plus when it runs, and what became of every occurrence.
// Kept apart from commands.ts/events.ts, which only spread these into their unions.
import { z } from 'zod';
import { cmd } from './command-shape.js';
import { Id, Timestamp } from './entities.js';

const Clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time as HH:MM (24-hour)');
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/**
 * Why a "YYYY-MM-DDTHH:MM" names no day on the calendar (2027-02-30, 2027-02-29, month 13), in a
 * sentence; undefined when it is a real date. The parts must come back unchanged through Date.UTC,
 * which would otherwise roll 30 February over into March.
 */
export function calendarDateProblem(at: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(at);
  if (!m) return undefined;
  const [y, mo, d, h, mi] = m.slice(1).map(Number);
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi));
  if (t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d) return undefined;
  const date = at.slice(0, 10);
  if (mo < 1 || mo > 12) return `${date} is not a date: months run from 01 to 12.`;
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return `${date} is not a date: ${MONTHS[mo - 1]} ${y} has ${days} days.`;
}

const LocalDateTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d$/, 'a local date and time as YYYY-MM-DDTHH:MM')
  .refine((at) => calendarDateProblem(at) === undefined, {
    error: (iss) => calendarDateProblem(String(iss.input)) ?? 'not a date on the calendar',
  });

/**
 * Five or six fields of printable ASCII separated by single spaces (after trimming): no control,
 * line-separator or invisible characters, which would otherwise reach terminals and the phone raw.
 */
export const CRON_SHAPE = /^[\x21-\x7e]+(?: [\x21-\x7e]+){4,5}$/;
export const CRON_SHAPE_PROBLEM =
  'a cron expression is five fields (minute hour day month weekday), or six with seconds first, of printable ASCII characters separated by single spaces';
const CronExpr = z.string().trim().max(120).regex(CRON_SHAPE, CRON_SHAPE_PROBLEM);

/**
 * Why a cron expression would run more often than once a minute, in a sentence; undefined when it
 * does not. Five fields run at most once a minute; with six, the seconds field must name one second.
 * Checked when a schedule is made or changed (not by the schema, so a schedule stored before still
 * reads): each run is a task, and each tick rewrites the schedule's record.
 */
export function cronFrequencyProblem(expr: string): string | undefined {
  const fields = expr.trim().split(' ');
  if (fields.length !== 6 || /^[0-5]?\d$/.test(fields[0])) return undefined;
  return 'A schedule runs at most once a minute: in a six-field cron expression the first field (seconds) must be one number from 0 to 59, such as 0.';
}

/** When a schedule runs, read in its time zone. */
export const ScheduleWhen = z.discriminatedUnion('kind', [
  /** Five fields (minute hour day month weekday), or six with seconds first. */
  z.object({ kind: z.literal('cron'), expr: CronExpr }).strict(),
  z.object({ kind: z.literal('once'), at: LocalDateTime }).strict(),
  z.object({ kind: z.literal('daily'), time: Clock }).strict(),
  z.object({ kind: z.literal('weekdays'), time: Clock }).strict(),
  z
    .object({
      kind: z.literal('every'),
      hours: z
        .number()
        .int()
        .min(1)
        .max(24 * 7),
    })
    .strict(),
]);
export type ScheduleWhen = z.infer<typeof ScheduleWhen>;

/** What happens to an occurrence missed while the computer slept or Errand was not running. */
export const CatchUpRule = z.enum(['run', 'skip', 'ask']);
export type CatchUpRule = z.infer<typeof CatchUpRule>;

export const OccurrenceOutcome = z.enum([
  'running',
  'ran',
  'failed',
  'interrupted',
  'cancelled',
  /** Not run because the previous run was still going (the overlap rule). */
  'skipped',
  /** Not run at its time: the computer was asleep or Errand was not running. */
  'missed',
]);
export type OccurrenceOutcome = z.infer<typeof OccurrenceOutcome>;

export const Occurrence = z.object({
  id: Id,
  /** When it was due (for a "run now", when it was asked for). */
  dueAt: Timestamp,
  outcome: OccurrenceOutcome,
  /** Why it was missed, skipped or failed, in words a person understands. */
  reason: z.string().optional(),
  taskId: Id.optional(),
  startedAt: Timestamp.optional(),
  endedAt: Timestamp.optional(),
  /** A missed occurrence run late by the catch-up rule or by the user's "Run". */
  late: z.boolean().optional(),
  /** Started by "run now", not by the calendar. */
  manual: z.boolean().optional(),
  /** Catch-up rule "ask": open until the user picks Run or Skip (or a later occurrence runs). */
  ask: z.enum(['open', 'run', 'skip', 'expired']).optional(),
  /** Several occurrences missed in a row, folded into one entry: how many, and the last one's time. */
  count: z.number().int().min(2).optional(),
  lastDueAt: Timestamp.optional(),
  costUsd: z.number().nonnegative().optional(),
});
export type Occurrence = z.infer<typeof Occurrence>;

export const ScheduleState = z.enum(['active', 'paused', 'ended']);
export type ScheduleState = z.infer<typeof ScheduleState>;

export const Schedule = z.object({
  id: Id,
  title: z.string(),
  /** The task as the user wrote it; each run sends it to the schedule's thread. */
  text: z.string(),
  when: ScheduleWhen,
  /** IANA time zone the calendar is read in (the user's, e.g. "Europe/Paris"). */
  timeZone: z.string(),
  catchUp: CatchUpRule,
  /** How late a missed occurrence may still be caught up; default half the period. */
  catchUpWindowMinutes: z.number().positive().optional(),
  /** Spending limit per run, in US dollars (default: agent.maxCostUsd). */
  maxCostUsd: z.number().positive().optional(),
  state: ScheduleState,
  /** The schedule's own thread: every run goes there. */
  threadId: Id.optional(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  /** Every occurrence due at or before this time has been accounted for. */
  accountedUntil: Timestamp,
  /** The next due occurrence (none when paused or ended). */
  nextRunAt: Timestamp.optional(),
  /**
   * The next run's own wall-clock time ("YYYY-MM-DDTHH:MM") when a spring-forward skips it that day:
   * it does not exist there, and the run is at the change (`nextRunAt`). Absent otherwise.
   */
  nextRunSkipped: LocalDateTime.optional(),
  /** Recent occurrences, oldest first (bounded). */
  history: z.array(Occurrence),
  spentUsd: z.number().nonnegative(),
  /**
   * Made by a task that had read untrusted content (a web page, a received file, connector output):
   * its text may carry that content's instructions, so every run starts as untrusted. Kept through
   * edits; absent (older schedules, the user's own) means false.
   */
  fromUntrusted: z.boolean().optional(),
});
export type Schedule = z.infer<typeof Schedule>;

const Title = z.string().trim().min(1).max(80);
const TaskText = z.string().min(1).max(20_000);

/**
 * The most schedules a home keeps, ended ones included (each is held in memory and rewritten as it
 * runs): past it a new one is refused until the user removes some.
 */
export const MAX_SCHEDULES = 1000;
/** An IANA zone name (Europe/Paris, America/Argentina/Buenos_Aires, Etc/GMT+5): never control characters. */
const TimeZone = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z][A-Za-z0-9_+\-/]*$/, 'Give an IANA time zone name, like Europe/Paris.');

/** Fields a client sets when creating or editing a schedule. */
export const ScheduleFields = {
  title: Title.optional(),
  text: TaskText,
  when: ScheduleWhen,
  timeZone: TimeZone.optional(),
  catchUp: CatchUpRule.optional(),
  catchUpWindowMinutes: z
    .number()
    .positive()
    .max(60 * 24 * 31)
    .optional(),
  maxCostUsd: z.number().positive().max(10_000).optional(),
};

export const ScheduleCommands = [
  cmd('schedules.list', {}),
  cmd('schedule.create', ScheduleFields),
  cmd('schedule.update', {
    scheduleId: Id,
    title: Title.optional(),
    text: TaskText.optional(),
    when: ScheduleWhen.optional(),
    timeZone: TimeZone.optional(),
    catchUp: CatchUpRule.optional(),
    catchUpWindowMinutes: ScheduleFields.catchUpWindowMinutes,
    /** null removes the schedule's own limit: its runs then have the per-task limit (agent.maxCostUsd). */
    maxCostUsd: z.number().positive().max(10_000).nullable().optional(),
  }),
  cmd('schedule.pause', { scheduleId: Id }),
  cmd('schedule.resume', { scheduleId: Id }),
  cmd('schedule.delete', { scheduleId: Id }),
  cmd('schedule.run', { scheduleId: Id }),
  /** The answer to a catch-up "ask": run the missed occurrence now, or skip it. */
  cmd('schedule.decide', { scheduleId: Id, occurrenceId: Id, decision: z.enum(['run', 'skip']) }),
  /** Spending limits from the phone: the daily and monthly caps and the per-task limit (null removes one). */
  cmd('spend.set', {
    dailyUsd: z.number().positive().max(100_000).nullable().optional(),
    monthlyUsd: z.number().positive().max(1_000_000).nullable().optional(),
    perTaskUsd: z.number().positive().max(10_000).nullable().optional(),
  }),
] as const;

export const SCHEDULE_MUTATING = [
  'schedule.create',
  'schedule.update',
  'schedule.pause',
  'schedule.resume',
  'schedule.delete',
  'schedule.run',
  'schedule.decide',
  'spend.set',
] as const;

export const ScheduleEvents = [
  z.object({ kind: z.literal('schedule.updated'), schedule: Schedule }),
  z.object({ kind: z.literal('schedule.removed'), scheduleId: Id }),
] as const;
