// Next-step hints name a command the user has: run from the project by npm (`npm start`,
// `npx errand`) with no `errand` on PATH, that is `npx errand …`; with `errand` on PATH (npm link,
// a global install) or run otherwise, `errand …`. One helper decides for all the CLI's output.
// Before, `npm start` users were told to run `errand pair`, `errand install`, `errand start`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { namingUsersCommand } from '../../src/cli/command-name.js';
import { runCli } from '../../src/cli/main.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-hint-command-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const home = path.join(dir, 'home');
fs.mkdirSync(home, { mode: 0o700 });
// A folder holding an `errand` executable, as `npm link` makes one.
const linkedBin = path.join(dir, 'bin');
fs.mkdirSync(linkedBin);
fs.writeFileSync(path.join(linkedBin, 'errand'), '#!/bin/sh\n', { mode: 0o755 });

async function cli(argv: string[], env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env,
    interactive: false,
    confirm: async () => false,
  };
  const code = await runCli(argv, io);
  return { code, text: [...out, ...err].join('\n') };
}

const base = { ERRAND_HOME: home, PATH: '/usr/bin:/bin', HOME: path.join(dir, 'user') };

it('run by npm without `errand` on PATH: status says `npx errand start`', async () => {
  const r = await cli(['status'], { ...base, npm_lifecycle_event: 'start' });
  expect(r.code).toBe(1);
  expect(r.text).toContain('start it with `npx errand start`');
});

it('run by npm with `errand` on PATH, or not by npm: `errand start`', async () => {
  const linked = await cli(['status'], { ...base, PATH: `${linkedBin}:/usr/bin:/bin`, npm_lifecycle_event: 'npx' });
  expect(linked.text).toContain('start it with `errand start`');
  const plain = await cli(['status'], base);
  expect(plain.text).toContain('start it with `errand start`');
});

it("doctor's fixes name `npx errand …` too when run by npm", async () => {
  const r = await cli(['doctor'], { ...base, npm_lifecycle_event: 'npx', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' });
  expect(r.text).toContain('Start it with `npx errand start`, or run `npx errand install`');
  expect(r.text).not.toMatch(/`errand /);
});

it('a command after settings is named too; words that are not a quoted command are left alone', () => {
  const named = namingUsersCommand({ npm_lifecycle_event: 'start', PATH: '/usr/bin:/bin' });
  expect(named('run `ERRAND_PORT=7346 errand install`, or `errand start --port 7346`')).toBe(
    'run `ERRAND_PORT=7346 npx errand install`, or `npx errand start --port 7346`',
  );
  expect(named('errand start: port 7345 is in use')).toBe('errand start: port 7345 is in use');
});
