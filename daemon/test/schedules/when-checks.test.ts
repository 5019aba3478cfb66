// What a schedule's `when` may be: a one-off on a real calendar date (never rolled over into the next
// month), and a cron expression of printable fields, so nothing odd reaches a terminal or the phone.
import { afterEach, describe, expect, it } from 'vitest';
import { ScheduleWhen } from '../../../shared/src/index.js';
import { type SchedulesModule, startSchedules } from '../../src/schedules/index.js';
import { whenProblem } from '../../src/schedules/timing.js';
import { type Harness, startHarness } from '../agent/harness.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import { FakeClock } from './fake-clock.js';

const issues = (when: unknown): string => {
  const r = ScheduleWhen.safeParse(when);
  return r.success ? '' : r.error.issues.map((i) => i.message).join('; ');
};

describe('a one-off date', () => {
  it.each([
    ['2027-02-30T10:00', /2027-02-30 is not a date: February 2027 has 28 days/],
    ['2027-02-29T10:00', /2027-02-29 is not a date: February 2027 has 28 days/],
    ['2027-04-31T08:00', /2027-04-31 is not a date: April 2027 has 30 days/],
    ['2027-13-01T08:00', /2027-13-01 is not a date: months run from 01 to 12/],
    ['2027-00-10T08:00', /months run from 01 to 12/],
    ['2027-01-00T08:00', /2027-01-00 is not a date: January 2027 has 31 days/],
  ])('refuses %s, naming the date', (at, message) => {
    expect(issues({ kind: 'once', at })).toMatch(message);
    expect(whenProblem({ kind: 'once', at }, 'Europe/Paris')).toMatch(message);
  });

  it('accepts real dates, 29 February of a leap year included', () => {
    for (const at of ['2028-02-29T10:00', '2027-02-28T23:59', '2027-12-31T00:00'])
      expect({ at, issues: issues({ kind: 'once', at }), problem: whenProblem({ kind: 'once', at }, 'UTC') }).toEqual({
        at,
        issues: '',
        problem: undefined,
      });
  });
});

describe('refused on the wire', () => {
  let server: ModelServer | undefined;
  let h: Harness | undefined;
  let mod: SchedulesModule | undefined;
  afterEach(async () => {
    await mod?.stop();
    mod = undefined;
    await h?.cleanup();
    h = undefined;
    await server?.close();
    server = undefined;
  });

  it('a one-off at 30 February is refused, not moved to March', async () => {
    server = await startModelServer(() => reply(text('ok')));
    h = await startHarness({ modelUrl: server.url });
    const clock = new FakeClock(Date.parse('2027-01-11T06:59:00Z'));
    mod = await startSchedules(h.ctx, h.agent, { clock });
    const send = (when: unknown) =>
      h!.send('schedule.create', { text: 'Renew the passport', when, timeZone: 'UTC' } as never);
    await expect(send({ kind: 'once', at: '2027-02-30T10:00' })).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringMatching(/2027-02-30 is not a date/),
    });
    await expect(send({ kind: 'once', at: '2027-02-29T10:00' })).rejects.toMatchObject({
      message: expect.stringMatching(/2027-02-29 is not a date/),
    });
    expect(h.store.schedules.size).toBe(0);
  });
});
