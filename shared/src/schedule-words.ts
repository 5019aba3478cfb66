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
