// Calendar maths in the schedule's time zone, across daylight-saving changes (croner underneath).
import { describe, expect, it } from 'vitest';
import type { ScheduleWhen } from '../../../shared/src/index.js';
import {
  catchUpWindowMs,
  describeWhen,
  dueBetween,
  latestDue,
  nextDue,
  skippedBy,
  whenProblem,
} from '../../src/schedules/timing.js';

const at = (when: ScheduleWhen, timeZone: string, accountedUntil: number) => ({ when, timeZone, accountedUntil });
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const HOUR = 3_600_000;

describe('schedule timing', () => {
  it('a daily time in a spring-forward gap runs once, at the first valid time after the gap', () => {
    // Paris skips 02:00–03:00 on 29 March 2026.
    const s = at({ kind: 'daily', time: '02:30' }, 'Europe/Paris', Date.parse('2026-03-27T12:00:00Z'));
    const { times } = dueBetween(s, s.accountedUntil, Date.parse('2026-03-31T00:00:00Z'));
    expect(times.map(iso)).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST, the first valid time after the gap
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
  });

  it('names the time a spring-forward skipped, for the run at the change, and nothing else', () => {
    // Berlin skips 02:00–03:00 on 28 March 2027.
    const change = Date.parse('2027-03-28T01:00:00Z'); // 03:00 CEST
    const once = at({ kind: 'once', at: '2027-03-28T02:30' }, 'Europe/Berlin', Date.parse('2027-03-01T00:00:00Z'));
    expect(nextDue(once)).toBe(change);
    expect(skippedBy(once, change)).toBe('2027-03-28T02:30');
    const daily = { ...once, when: { kind: 'daily', time: '02:30' } as ScheduleWhen };
    expect(nextDue(daily, Date.parse('2027-03-27T12:00:00Z'))).toBe(change);
    expect(skippedBy(daily, change)).toBe('2027-03-28T02:30');
    // Several skipped times on one run: the first is named.
    const quarters = { ...once, when: { kind: 'cron', expr: '*/15 2 * * *' } as ScheduleWhen };
    expect(skippedBy(quarters, change)).toBe('2027-03-28T02:00');
    // On its own time: a run at 03:00 that is meant for 03:00, a normal day, a repeated hour, elapsed time.
    expect(skippedBy({ ...once, when: { kind: 'daily', time: '03:00' } }, change)).toBeUndefined();
    expect(skippedBy(daily, Date.parse('2027-03-29T00:30:00Z'))).toBeUndefined();
    expect(skippedBy(daily, Date.parse('2027-10-31T00:30:00Z'))).toBeUndefined();
    expect(skippedBy({ ...once, when: { kind: 'every', hours: 1 } }, change)).toBeUndefined();
    expect(skippedBy(daily, undefined)).toBeUndefined();
  });

  it('a daily time repeated by a fall-back runs once', () => {
    // Paris repeats 02:00–03:00 on 25 October 2026.
    const s = at({ kind: 'daily', time: '02:30' }, 'Europe/Paris', Date.parse('2026-10-24T12:00:00Z'));
    const { times } = dueBetween(s, s.accountedUntil, Date.parse('2026-10-27T00:00:00Z'));
    expect(times.map(iso)).toEqual([
      '2026-10-25T00:30:00.000Z', // 02:30 CEST, the first of the two
      '2026-10-26T01:30:00.000Z', // 02:30 CET
    ]);
  });

  it('weekdays at 08:00 stay at 08:00 local across the US change, and skip the weekend', () => {
    const s = at({ kind: 'weekdays', time: '08:00' }, 'America/New_York', Date.parse('2026-03-06T00:00:00Z'));
    const { times } = dueBetween(s, s.accountedUntil, Date.parse('2026-03-10T00:00:00Z'));
    expect(times.map(iso)).toEqual(['2026-03-06T13:00:00.000Z', '2026-03-09T12:00:00.000Z']);
    // Half the period: Friday to Monday is three days.
    expect(catchUpWindowMs(s, times[0])).toBe(1.5 * 24 * HOUR - HOUR / 2);
  });

  it('every N hours is elapsed time, whatever the clocks do', () => {
    const start = Date.parse('2026-03-29T00:00:00Z');
    const s = at({ kind: 'every', hours: 3 }, 'Europe/Paris', start);
    const { times } = dueBetween(s, start, start + 10 * HOUR);
    expect(times).toEqual([start + 3 * HOUR, start + 6 * HOUR, start + 9 * HOUR]);
    expect(nextDue(s, start + 7 * HOUR)).toBe(start + 9 * HOUR);
    expect(catchUpWindowMs(s, start)).toBe(1.5 * HOUR);
  });

  it('a one-off runs once, in its own time zone', () => {
    const s = at({ kind: 'once', at: '2026-12-05T08:00' }, 'America/New_York', Date.parse('2026-12-01T00:00:00Z'));
    expect(iso(nextDue(s))).toBe('2026-12-05T13:00:00.000Z');
    expect(nextDue(s, Date.parse('2026-12-05T13:00:00Z'))).toBeUndefined();
  });

  it('says what is wrong with a rhythm, and describes it in words', () => {
    expect(whenProblem({ kind: 'cron', expr: '0 8 * * 1' }, 'UTC')).toBeUndefined();
    expect(whenProblem({ kind: 'cron', expr: '0 25 * * 1' }, 'UTC')).toMatch(/not valid/);
    expect(whenProblem({ kind: 'daily', time: '08:00' }, 'Nowhere/Here')).toMatch(/not a time zone/);
    expect(describeWhen({ kind: 'weekdays', time: '08:00' })).toBe('weekdays at 08:00');
    expect(describeWhen({ kind: 'every', hours: 1 })).toBe('every hour');
  });

  it('counts a long gap without enumerating forever', () => {
    const start = Date.parse('2026-01-01T00:00:00Z');
    const s = at({ kind: 'cron', expr: '* * * * *' }, 'UTC', start);
    const { times, more } = dueBetween(s, start, start + 30 * 24 * HOUR);
    expect(more).toBe(true);
    expect(times.length).toBe(2000);
    // The newest due one is still found directly.
    expect(latestDue(s, start + 30 * 24 * HOUR + 30_000)).toBe(start + 30 * 24 * HOUR);
    expect(latestDue({ ...s, when: { kind: 'every', hours: 3 } }, start + 10 * HOUR)).toBe(start + 9 * HOUR);
    expect(latestDue({ ...s, when: { kind: 'every', hours: 3 } }, start + 2 * HOUR)).toBeUndefined();
  });

  // New York falls back on 7 November 2027 (02:00 EDT → 01:00 EST: 01:00–01:59 twice) and springs
  // forward on 14 March 2027 (02:00 EST → 03:00 EDT: 02:00–02:59 never happens).
  const NY = 'America/New_York';

  it('a cron time repeated by a fall-back runs once, at its first instance', () => {
    const s = at({ kind: 'cron', expr: '0,30 1 * * *' }, NY, Date.parse('2027-11-06T12:00:00Z'));
    const { times } = dueBetween(s, s.accountedUntil, Date.parse('2027-11-09T00:00:00Z'));
    expect(times.map(iso)).toEqual([
      '2027-11-07T05:00:00.000Z', // 01:00 EDT
      '2027-11-07T05:30:00.000Z', // 01:30 EDT; not again at 01:00 and 01:30 EST
      '2027-11-08T06:00:00.000Z', // 01:00 EST
      '2027-11-08T06:30:00.000Z',
    ]);
    // Counted from inside the second pass (01:10 EST): 01:30 has been used already.
    expect(iso(nextDue(s, Date.parse('2027-11-07T06:10:00Z')))).toBe('2027-11-08T06:00:00.000Z');
    // The newest one due by 01:40 EST is 01:30 EDT.
    expect(iso(latestDue(s, Date.parse('2027-11-07T06:40:00Z')))).toBe('2027-11-07T05:30:00.000Z');
    // A daily time in the repeated hour too.
    const daily = at({ kind: 'daily', time: '01:30' }, NY, Date.parse('2027-11-06T12:00:00Z'));
    expect(dueBetween(daily, daily.accountedUntil, Date.parse('2027-11-08T12:00:00Z')).times.map(iso)).toEqual([
      '2027-11-07T05:30:00.000Z',
      '2027-11-08T06:30:00.000Z',
    ]);
  });

  it('an hourly cron does not run in the repeated hour: two real hours pass between 01:00 and 02:00', () => {
    const s = at({ kind: 'cron', expr: '0 * * * *' }, NY, Date.parse('2027-11-07T04:00:00Z'));
    const { times } = dueBetween(s, s.accountedUntil, Date.parse('2027-11-07T09:00:00Z'));
    expect(times.map(iso)).toEqual([
      '2027-11-07T05:00:00.000Z', // 01:00 EDT
      '2027-11-07T07:00:00.000Z', // 02:00 EST
      '2027-11-07T08:00:00.000Z',
      '2027-11-07T09:00:00.000Z',
    ]);
  });

  it('times skipped by a spring-forward run once, at the change (the first valid time after them)', () => {
    const hourly = at({ kind: 'cron', expr: '0 * * * *' }, NY, Date.parse('2027-03-14T05:00:00Z'));
    expect(dueBetween(hourly, hourly.accountedUntil, Date.parse('2027-03-14T09:00:00Z')).times.map(iso)).toEqual([
      '2027-03-14T06:00:00.000Z', // 01:00 EST
      '2027-03-14T07:00:00.000Z', // 02:00 skipped and 03:00 EDT: one run at 03:00 EDT
      '2027-03-14T08:00:00.000Z',
      '2027-03-14T09:00:00.000Z',
    ]);
    // croner on its own dropped these two for the day.
    const pair = at({ kind: 'cron', expr: '0,30 2 * * *' }, NY, Date.parse('2027-03-13T12:00:00Z'));
    expect(dueBetween(pair, pair.accountedUntil, Date.parse('2027-03-15T12:00:00Z')).times.map(iso)).toEqual([
      '2027-03-14T07:00:00.000Z', // 03:00 EDT, once for both
      '2027-03-15T06:00:00.000Z',
      '2027-03-15T06:30:00.000Z',
    ]);
    const quarter = at({ kind: 'cron', expr: '*/15 2 * * *' }, NY, Date.parse('2027-03-14T05:00:00Z'));
    expect(dueBetween(quarter, quarter.accountedUntil, Date.parse('2027-03-14T12:00:00Z')).times.map(iso)).toEqual([
      '2027-03-14T07:00:00.000Z',
    ]);
  });

  it('a one-off at a skipped time runs at the change; at a repeated time, at its first instance', () => {
    const gap = at({ kind: 'once', at: '2027-03-14T02:30' }, NY, Date.parse('2027-03-01T00:00:00Z'));
    expect(iso(nextDue(gap))).toBe('2027-03-14T07:00:00.000Z'); // 03:00 EDT, not 03:30
    expect(iso(latestDue(gap, Date.parse('2027-03-14T07:00:00Z')))).toBe('2027-03-14T07:00:00.000Z');
    const twice = at({ kind: 'once', at: '2027-11-07T01:30' }, NY, Date.parse('2027-11-01T00:00:00Z'));
    expect(iso(nextDue(twice))).toBe('2027-11-07T05:30:00.000Z'); // 01:30 EDT
    expect(nextDue(twice, Date.parse('2027-11-07T05:30:00Z'))).toBeUndefined();
    expect(dueBetween(twice, twice.accountedUntil, Date.parse('2027-11-08T00:00:00Z')).times).toHaveLength(1);
  });

  it('a half-hour daylight-saving shift (Lord Howe Island) repeats only the half hour', () => {
    // 4 April 2027: 02:00 (UTC+11) → 01:30 (UTC+10:30).
    const s = at({ kind: 'cron', expr: '*/15 1 * * *' }, 'Australia/Lord_Howe', Date.parse('2027-04-03T12:00:00Z'));
    const { times } = dueBetween(s, s.accountedUntil, Date.parse('2027-04-04T15:00:00Z'));
    expect(times.map(iso)).toEqual([
      '2027-04-03T14:00:00.000Z',
      '2027-04-03T14:15:00.000Z',
      '2027-04-03T14:30:00.000Z',
      '2027-04-03T14:45:00.000Z', // 01:45 at UTC+11; not 01:30 and 01:45 again at UTC+10:30
      '2027-04-04T14:30:00.000Z', // the next night's 01:00 at UTC+10:30
      '2027-04-04T14:45:00.000Z',
      '2027-04-04T15:00:00.000Z',
    ]);
  });
});
