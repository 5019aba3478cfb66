// `errand schedules add` with a bad value is a usage error: exit 2, named by its option (not the
// protocol's field names), and --once names the format the README and help give.
import { describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../../src/cli/command.js';
import { schedulesCommand } from '../../src/cli/commands/schedules.js';
import { tempHome } from '../helpers/daemon.js';

async function add(flags: string[]) {
  const argv = ['add', 'water the plants', ...flags];
  const parsed = parseCommandArgs(schedulesCommand, argv);
  const err: string[] = [];
  // No daemon runs for this home: a value the CLI refuses never gets that far.
  const code = await schedulesCommand.run(
    { values: parsed.values, positionals: parsed.positionals, home: tempHome() },
    { out: () => {}, err: (t) => err.push(t), env: {}, interactive: false, confirm: async () => false },
  );
  return { code, err: err.join('\n') };
}

describe('errand schedules add: bad values', () => {
  it.each([
    [['--daily', '25:00'], '--daily takes a time as HH:MM (24-hour), not "25:00"'],
    [['--weekdays', '9am'], '--weekdays takes a time as HH:MM'],
    [['--every', '200h'], '--every takes at most 168 hours, not "200h"'],
    [['--every', '0h'], '--every takes at least 1 hour'],
    [['--once', 'tomorrow'], '--once takes a local date and time as "YYYY-MM-DD HH:MM"'],
    [['--once', '2027-02-30 09:00'], '--once: 2027-02-30 is not a date'],
    [['--daily', '08:00', '--tz', 'Mars/Base'], '--tz takes a time zone name like Europe/Paris'],
  ])('%j exits 2: %s', async (flags, message) => {
    const r = await add(flags);
    expect(r.err).toContain(message);
    expect(r.err).not.toMatch(/when\.|YYYY-MM-DDTHH/);
    expect(r.code).toBe(2);
  });

  it('a good value gets as far as the daemon (not running here: exit 1)', async () => {
    const r = await add(['--daily', '08:00', '--tz', 'Europe/Paris']);
    expect(r.err).toContain('No Errand daemon is running');
    expect(r.code).toBe(1);
  });
});
