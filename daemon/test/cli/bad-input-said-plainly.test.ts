// Bad input on the command line is a usage error (exit 2) said in plain words that name the limit
// and what to do, before anything is saved or sent: a connector address that is not http(s), an
// empty device name, a schedule title or task over its limit (not zod's "Too big: expected string to
// have <=80 characters"), a spending limit over its cap.
import fs from 'node:fs';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { runCli } from '../../src/cli/main.js';
import { issueSentence, issueWords } from '../../src/util/issue-words.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let td: TestDaemon;
beforeEach(async () => {
  td = await startTestDaemon();
});
afterEach(async () => {
  await td.stop();
});

async function errand(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env: { ERRAND_HOME: td.home },
    interactive: false,
    confirm: async () => false,
  };
  const code = await runCli(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The connectors config.json holds (none when there is no config.json yet). */
function connectorsInConfig(): unknown[] {
  const file = td.daemon.ctx.paths.config;
  if (!fs.existsSync(file)) return [];
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { connectors?: unknown[] }).connectors ?? [];
}

it('connectors add --url with an address that is not http(s): a usage error naming what it takes, nothing saved', async () => {
  const ftp = await errand(['connectors', 'add', 'files', '--url', 'ftp://x', '--yes']);
  expect(ftp).toEqual({
    code: 2,
    out: '',
    err: 'errand connectors: --url takes the http:// or https:// address of an MCP server (like https://mcp.example.com/mcp, or http://127.0.0.1:8080/mcp on this computer); this one starts with "ftp:".',
  });
  const notAnAddress = await errand(['connectors', 'add', 'files', '--url', 'not an address', '--yes']);
  expect(notAnAddress.code).toBe(2);
  expect(notAnAddress.err).toMatch(/--url takes the http:\/\/ or https:\/\/ address .*; this is not an address\.$/);
  expect(connectorsInConfig()).toEqual([]);
});

it('devices rename to an empty name: a usage error with the usage line, as a missing name is', async () => {
  const { deviceId } = await td.pairDevice('Pixel');
  for (const name of ['', '   ']) {
    const r = await errand(['devices', 'rename', deviceId, name]);
    expect(r).toEqual({
      code: 2,
      out: '',
      err: 'errand devices: the new name is empty.\nUsage: errand devices rename <id> <new name> (ids are shown by `errand devices`)',
    });
  }
  expect(td.daemon.ctx.store.devices.get(deviceId)?.name).toBe('Pixel');
});

it('schedules add with a title or task over its limit: the limit and the fix, exit 2, nothing added', async () => {
  const title = await errand(['schedules', 'add', 'Water the plants', '--daily', '08:00', '--title', 'x'.repeat(81)]);
  expect(title).toEqual({ code: 2, out: '', err: '--title is too long: at most 80 characters. Shorten it.' });

  const task = await errand(['schedules', 'add', 'y'.repeat(100_000), '--daily', '08:00']);
  expect(task).toEqual({
    code: 2,
    out: '',
    err: 'The task is too long: at most 20,000 characters. Shorten it; longer instructions can go in a file the task is told to read.',
  });

  const blankTitle = await errand(['schedules', 'add', 'Water the plants', '--daily', '08:00', '--title', '  ']);
  expect(blankTitle.code).toBe(2);
  expect(blankTitle.err).toBe(
    "--title is empty. Give it some text, or leave --title out to use the task's first line.",
  );

  const cost = await errand(['schedules', 'add', 'Water the plants', '--daily', '08:00', '--max-cost', '20000']);
  expect(cost).toEqual({ code: 2, out: '', err: '--max-cost must be at most 10,000.' });

  for (const r of [title, task, blankTitle, cost]) expect(r.err).not.toMatch(/Too big|Too small|expected/);
  expect((await errand(['schedules', '--json'])).out).toBe('[]');

  // At the limit it is added.
  const fits = await errand(['schedules', 'add', 'Water the plants', '--daily', '08:00', '--title', 'x'.repeat(80)]);
  expect(fits.code).toBe(0);
  expect(fits.out).toContain('x'.repeat(80));
});

it("zod's default words become plain ones; a schema's own message is kept", () => {
  const at = (path: string[]) => ({ path });
  expect(
    issueWords({
      ...at(['title']),
      code: 'too_big',
      origin: 'string',
      maximum: 80,
      inclusive: true,
      message: 'Too big: expected string to have <=80 characters',
    }),
  ).toBe('is too long: at most 80 characters');
  expect(
    issueSentence({
      ...at(['maxCostUsd']),
      code: 'too_small',
      origin: 'number',
      minimum: 0,
      inclusive: false,
      message: 'Too small: expected number to be >0',
    }),
  ).toBe('maxCostUsd must be more than 0');
  expect(
    issueSentence({
      ...at(['catchUp']),
      code: 'invalid_value',
      values: ['run', 'skip', 'ask'],
      message: 'Invalid option: expected one of "run"|"skip"|"ask"',
    }),
  ).toBe('catchUp must be one of "run", "skip", "ask"');
  expect(
    issueSentence({
      ...at(['text']),
      code: 'invalid_type',
      expected: 'string',
      message: 'Invalid input: expected string, received undefined',
    }),
  ).toBe('text is missing');
  expect(
    issueSentence({
      ...at(['name']),
      code: 'invalid_format',
      message: 'lowercase letters, digits, - and _, up to 32',
    }),
  ).toBe('name: lowercase letters, digits, - and _, up to 32');
  expect(issueWords({ ...at(['t']), code: 'too_big', origin: 'string', maximum: 300, message: 'keep it short' })).toBe(
    'keep it short',
  );
});
