// A config.json error quotes what is in the file: an unknown key, or the bytes of a damaged file.
// start, doctor, expose and the config-editing commands print it with control characters made
// visible (\x1b, \x07, \x00), so a key cannot retitle the window or clear the screen. Before, the
// escapes and NUL bytes reached the terminal raw.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { freePort, runErrand } from '../helpers/cli.js';
import { tempHome } from '../helpers/daemon.js';

// Any C0 control character other than a line break (ESC, BEL, NUL …).
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f]/;

async function everyCommandOn(home: string): Promise<string[]> {
  // The model endpoint doctor asks is a closed local port: no request leaves this machine.
  const env = { ERRAND_HOME: home, ANTHROPIC_API_KEY: '', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' };
  const folder = tempHome('errand-config-escapes-root-');
  const runs = await Promise.all([
    runErrand(['start', '--port', String(await freePort())], env),
    runErrand(['doctor'], env),
    runErrand(['expose'], env),
    runErrand(['allow', folder], env),
  ]);
  expect(runs.map((r) => r.code)).toEqual([78, 1, 1, 1]);
  return runs.map((r) => r.stdout + r.stderr);
}

it('an unknown key with terminal escapes is shown escaped by start, doctor, expose and allow', async () => {
  const home = tempHome('errand-config-escapes-');
  fs.writeFileSync(path.join(home, 'config.json'), '{"\\u001b]0;pwned\\u0007\\u001b[2J": 1}', { mode: 0o600 });
  for (const said of await everyCommandOn(home)) {
    expect(said).toContain('Unrecognized key: "\\x1b]0;pwned\\x07\\x1b[2J"');
    expect(said).not.toMatch(RAW_CONTROL);
  }
});

it('NUL bytes of a damaged config.json are shown as \\x00', async () => {
  const home = tempHome('errand-config-escapes-');
  fs.writeFileSync(path.join(home, 'config.json'), '{"port":\0\0}', { mode: 0o600 });
  for (const said of await everyCommandOn(home)) {
    expect(said).toContain('is not valid JSON');
    expect(said).toContain('\\x00');
    expect(said).not.toMatch(RAW_CONTROL);
  }
});
