// A connector whose server fails while `errand connectors add` tries it may print the secret it was
// given: the reason is printed, saved in config.json (disabledReason) and later shown on phones, so
// it never holds the secret.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { homePaths } from '../../src/config/paths.js';
import { failureWords } from '../../src/tools/connectors/connector.js';
import { connectorsOnHome } from './standalone-connectors.js';

const SECRET = 'SUPERSECRETVAL123';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const connectors = connectorsOnHome;

it('a server that prints its secret and exits: the reason printed and saved holds [redacted]', async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-probe-secret-'));
  dirs.push(home);
  const r = await connectors(home, [
    'add',
    'leaky',
    '--env',
    `API_TOKEN=${SECRET}`,
    '--yes',
    '--',
    '/bin/sh',
    '-c',
    'echo "auth failed for $API_TOKEN" >&2; exit 1',
  ]);
  const said = `${r.out}\n${r.err}`;
  expect(said).toContain('auth failed for [redacted]');
  expect(said).not.toContain(SECRET);
  const config = fs.readFileSync(homePaths(home).config, 'utf8');
  expect(config).toContain('auth failed for [redacted]');
  expect(config).not.toContain(SECRET);
  // The list the CLI prints from that config.
  const listed = await connectors(home, []);
  expect(`${listed.out}\n${listed.err}`).not.toContain(SECRET);
});

it('a reason saved before (an older release) is redacted when it becomes a status', () => {
  expect(failureWords(`closed (its output: auth failed for ${SECRET}) at https://me:pw@example.com/x`, [SECRET])).toBe(
    'closed (its output: auth failed for [redacted]) at https://example.com/x',
  );
});
