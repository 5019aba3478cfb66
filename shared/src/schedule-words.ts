// A schedule's rhythm and outcomes in words, for the phone and the CLI alike.
import type { Occurrence, ScheduleWhen } from './protocol/schedules.js';

export function describeWhen(when: ScheduleWhen): string {
  switch (when.kind) {
    case 'cron':
      return `cron ${when.expr}`;
    case 'once':
      return `once at ${when.at.replace('T', ' ')}`;
    case 'daily':
      return `every day at ${when.time}`;
    case 'weekdays':
      return `weekdays at ${when.time}`;
    case 'every':
      return when.hours === 1 ? 'every hour' : `every ${when.hours} hours`;
  }
}

export const OUTCOME_WORDS: Record<Occurrence['outcome'], string> = {
  running: 'running',
  ran: 'ran',
  failed: 'failed',
  interrupted: 'interrupted',
  cancelled: 'cancelled',
  skipped: 'skipped',
  missed: 'missed',
};

/**
 * Why a schedule's next run is not at its own time: `skipped` ("YYYY-MM-DDTHH:MM", the schedule's
 * `nextRunSkipped`) does not exist that day because the clocks go forward; it runs at the change.
 */
export function skippedWords(skipped: string, runsAt: number | undefined, timeZone: string): string {
  const [date, time] = skipped.split('T');
  return `${time} doesn't exist on ${date} because the clocks go forward that night: it runs at the change, ${timeIn(runsAt, timeZone).slice(11)}.`;
}

/** "YYYY-MM-DD HH:MM" of `ms` in `timeZone`. */
export function timeIn(ms: number | undefined, timeZone: string): string {
  if (ms === undefined) return '—';
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(ms));
  const p = (t: string) => parts.find((x) => x.type === t)?.value ?? '';
  return `${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')}`;
}
