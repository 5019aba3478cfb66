// The spend ledger turns days in the host's own zone from Date's local time (no ICU locale data):
// the same days and months as formatting in the host's named zone, across DST changes, in zones
// east and west of UTC and one with a half-hour offset.
import { afterEach, expect, it } from 'vitest';
import { hostTimeZone } from '../../src/schedules/timing.js';
import { SpendLedger } from '../../src/spend/ledger.js';

const savedTz = process.env.TZ;
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

it.each(['America/New_York', 'Australia/Adelaide', 'Europe/Paris', 'UTC'])(
  'sums the same days and months as the named host zone (%s)',
  (tz) => {
    process.env.TZ = tz;
    expect(hostTimeZone()).toBe(tz);
    const local = new SpendLedger();
    const named = new SpendLedger(() => hostTimeZone());
    const start = Date.UTC(2026, 0, 1);
    // Every 97 minutes through a year: every day boundary, both DST changes, the new year.
    const times: number[] = [];
    for (let t = start, i = 0; t < start + 366 * 86_400_000; t += 97 * 60_000, i++) {
      times.push(t);
      const task = { id: `t${i}`, costUsd: 0.01 * (1 + (i % 7)), createdAt: t };
      local.see(task);
      named.see(task);
    }
    for (const t of times) {
      expect(local.today(t)).toBeCloseTo(named.today(t), 9);
      expect(local.month(t)).toBeCloseTo(named.month(t), 9);
    }
    expect(local.today(times[0])).toBeGreaterThan(0);
  },
);
