// Calendar maths in the schedule's time zone, across daylight-saving changes (croner underneath).
import { describe, expect, it } from 'vitest';
import type { ScheduleWhen } from '../../../shared/src/index.js';
import {
  catchUpWindowMs,
  describeWhen,
  dueBetween,
  latestDue,
  nextDue,
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
});
