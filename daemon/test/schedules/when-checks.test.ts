// What a schedule's `when` may be: a one-off on a real calendar date (never rolled over into the next
// month), and a cron expression of printable fields, so nothing odd reaches a terminal or the phone.
import { afterEach, describe, expect, it } from 'vitest';
import { ClientCommand, type Schedule, ScheduleWhen } from '../../../shared/src/index.js';
import { describeSchedule } from '../../src/cli/commands/schedules.js';
import { type SchedulesModule, startSchedules } from '../../src/schedules/index.js';
import { dueBetween, nextDue, whenProblem } from '../../src/schedules/timing.js';
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

describe('a cron expression', () => {
  it.each([
    ['a carriage return', '0\r8 * * *'],
    ['a line feed', '0\n8 * * *'],
    ['a tab', '0\t8 * * *'],
    ['a vertical tab', '0\x0b8 * * *'],
    ['a form feed', '0\x0c8 * * *'],
    ['an escape sequence', '0 8 * * \x1b[2J*'],
    ['a line separator', '0\u20288 * * *'],
    ['a paragraph separator', '0\u20298 * * *'],
    ['a byte-order mark', '0\ufeff8 * * *'],
    ['a right-to-left override', '0 8 * * \u202e1'],
    ['a no-break space', '0\u00a08 * * *'],
    ['two spaces', '0  8 * * *'],
    ['four fields', '0 8 * *'],
    ['seven fields', '0 0 8 * * * 2027'],
  ])('refuses one with %s', (_what, expr) => {
    expect(issues({ kind: 'cron', expr })).toMatch(
      /five fields .* of printable ASCII characters separated by single spaces/,
    );
  });

  it('accepts five or six printable fields, trimmed first', () => {
    for (const expr of ['0 8 * * 1-5', '*/15 9-17 * * MON-FRI', '30 0 8 * * *', '0 0 L * ?'])
      expect(ScheduleWhen.parse({ kind: 'cron', expr })).toEqual({ kind: 'cron', expr });
    expect(ScheduleWhen.parse({ kind: 'cron', expr: ' \ufeff0 8 * * *\r\n\u2028' })).toEqual({
      kind: 'cron',
      expr: '0 8 * * *',
    });
  });

  it('`errand schedules` shows what a stored schedule holds with every control character made visible', () => {
    // Saved before the schema was strict: the journal is not re-validated on load.
    const s: Schedule = {
      id: 'sch_1',
      title: 'Brief\x1b[31m',
      text: 'x',
      when: { kind: 'cron', expr: '0\r8 * \x0b\x0c* *\u2028\u2029\ufeff' },
      timeZone: 'Europe/Paris\x1b]0;owned\x07',
      catchUp: 'run',
      state: 'active',
      createdAt: 0,
      updatedAt: 0,
      accountedUntil: 0,
      history: [],
      spentUsd: 0,
    };
    const out = describeSchedule(s);
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff]/);
    expect(out).toContain('cron 0\\x0d8 * \\x0b\\x0c* *\\u{2028}\\u{2029}\\u{feff} (Europe/Paris\\x1b]0;owned\\x07)');
  });
});

describe('how often', () => {
  it.each([
    ['every second', '* * * * * *'],
    ['every 10 seconds', '*/10 * * * * *'],
    ['twice a minute', '0,30 * * * * *'],
    ['a range of seconds', '0-59 8 * * * *'],
  ])('refuses a cron expression that runs more often than once a minute (%s)', (_what, expr) => {
    expect(whenProblem({ kind: 'cron', expr }, 'UTC')).toBe(
      'A schedule runs at most once a minute: in a six-field cron expression the first field (seconds) must be one number from 0 to 59, such as 0.',
    );
  });

  it('one stored before such rhythms were refused runs once a minute, at second 0', () => {
    const from = Date.parse('2027-01-11T06:59:30Z');
    for (const expr of ['* * * * * *', '*/10 * * * * *', '5-10 * * * * *']) {
      const s = { when: { kind: 'cron' as const, expr }, timeZone: 'UTC', accountedUntil: from };
      expect(dueBetween(s, from, from + 180_000)).toEqual({
        times: ['07:00:00', '07:01:00', '07:02:00'].map((t) => Date.parse(`2027-01-11T${t}Z`)),
        more: false,
      });
      expect(nextDue(s)).toBe(Date.parse('2027-01-11T07:00:00Z'));
    }
  });

  it('accepts once a minute or less often, with or without a seconds field', () => {
    for (const expr of ['* * * * *', '0 * * * * *', '30 0 8 * * *', '59 */5 * * * *', '*/15 9-17 * * MON-FRI'])
      expect({ expr, problem: whenProblem({ kind: 'cron', expr }, 'UTC') }).toEqual({ expr, problem: undefined });
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
    await expect(send({ kind: 'cron', expr: '0\r8 * * *' })).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringMatching(/printable ASCII/),
    });
    await expect(send({ kind: 'cron', expr: '* * * * * *' })).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringMatching(/^A schedule runs at most once a minute/),
    });
    expect(h.store.schedules.size).toBe(0);
  });
});

describe('time zone names', () => {
  it('refuses a zone with control characters before it can reach a terminal', () => {
    const base = { type: 'schedule.create', id: 'cmd_tz_0001', text: 'x', when: { kind: 'daily', time: '08:00' } };
    for (const good of ['Europe/Paris', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5', 'UTC'])
      expect(ClientCommand.safeParse({ ...base, timeZone: good }).success).toBe(true);
    for (const bad of ['Europe/Paris\r\u001b[2J', 'UTC\u0007', '\u202eUTC', 'Europe/ Paris'])
      expect(ClientCommand.safeParse({ ...base, timeZone: bad }).success).toBe(false);
  });
});
