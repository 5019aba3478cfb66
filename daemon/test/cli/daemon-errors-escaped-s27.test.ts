// The daemon's refusals quote what they refuse (a path, a name). Printed by the CLI as they came,
// a name holding terminal escapes rewrote the user's terminal (window title, erased lines, the
// clipboard through OSC 52). Every daemon error reaches the terminal through forTerminal now.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureBuilt } from '../agent/build.js';
import { freePort, killChildren, runErrand, spawnDaemon } from '../helpers/cli.js';

const children: ChildProcess[] = [];
let env: Record<string, string>;
let home: string;
beforeAll(async () => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-cli-daemon-errors-'));
  env = { ERRAND_HOME: home };
  children.push((await spawnDaemon(env, await freePort())).child);
}, 120_000);
afterAll(async () => {
  await killChildren(children);
  fs.rmSync(home, { recursive: true, force: true });
});

it('a refusal quoting a name with terminal escapes prints them as visible text', async () => {
  const r = await runErrand(['memory', 'show', 'a\x1b]0;PWNED\x07\x1b[2K.md'], env);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('errand memory: Refused: /memories/a\\x1b]0;PWNED\\x07\\x1b[2K.md');
  expect(r.stderr).not.toMatch(/[\x07\x1b]/);
});
