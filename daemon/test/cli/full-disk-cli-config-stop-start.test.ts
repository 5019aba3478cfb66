// A really full disk (a small tmpfs filled to the last byte) as the CLI meets it:
// - `errand allow` and `errand expose url` say the disk is full at config.json and that nothing
//   changed, instead of a raw "ENOSPC: no space left on device, write";
// - a SIGTERM stop still ends cleanly (exit 0, the lock released), saying what it could not save;
// - a start on the full disk starts, with a warning naming the place.
// Needs root (a tmpfs), as the other full-disk tests.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { homePaths } from '../../src/config/paths.js';
import { freePort, killChildren, runErrand, spawnDaemon } from '../helpers/cli.js';
import { tempHome } from '../helpers/daemon.js';
import { canMountSmallDisk, fill, type SmallDisk, smallDisk } from '../helpers/small-disk.js';

const children: ChildProcess[] = [];
let disk: SmallDisk | undefined;
afterEach(async () => {
  await killChildren(children);
  disk?.release();
  disk = undefined;
});

const FULL = (file: string) => `The disk is full at ${file}; nothing was changed. Free some space and try again.`;

it.runIf(canMountSmallDisk)(
  'config edits on a full disk say so, change nothing, and work once there is space',
  async () => {
    disk = smallDisk('4m')!;
    const home = path.join(disk.dir, 'home');
    fs.mkdirSync(home, { mode: 0o700 });
    const config = homePaths(home).config;
    fs.writeFileSync(config, '{\n  "roots": []\n}\n', { mode: 0o600 });
    const folder = tempHome('errand-full-disk-root-');
    const env = { ERRAND_HOME: home, ANTHROPIC_API_KEY: '' };
    const free = fill(path.join(disk.dir, 'filler'));

    const allow = await runErrand(['allow', folder], env);
    expect(allow.stderr.trim()).toBe(`errand allow: ${FULL(config)}`);
    expect(allow.code).toBe(1);
    const expose = await runErrand(['expose', 'url', 'https://errand.example.test'], env);
    expect(expose.stderr.trim()).toBe(`errand expose: ${FULL(config)}`);
    expect(expose.code).toBe(1);
    expect(fs.readFileSync(config, 'utf8')).toBe('{\n  "roots": []\n}\n');
    expect(fs.readdirSync(home)).toEqual(['config.json']); // no temp file left behind

    free();
    const again = await runErrand(['allow', folder], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(fs.readFileSync(config, 'utf8')).roots).toEqual([fs.realpathSync(folder)]);
  },
);

it.runIf(canMountSmallDisk)(
  'SIGTERM on a full disk stops cleanly (exit 0, lock released); a start on it warns and runs',
  async () => {
    disk = smallDisk('8m')!;
    const home = path.join(disk.dir, 'home');
    fs.mkdirSync(home, { mode: 0o700 });
    const env = { ERRAND_HOME: home, ANTHROPIC_API_KEY: '' };
    const lock = homePaths(home).lock;

    const first = await spawnDaemon(env, await freePort());
    children.push(first.child);
    fill(path.join(disk.dir, 'filler'));
    first.child.kill('SIGTERM');
    const stopped = await first.exited;
    expect(stopped.stderr).not.toContain('errand start: stop failed');
    expect(stopped.stderr).toContain("stopped without saving the paired devices' last-seen times");
    expect(stopped.code).toBe(0);
    expect(fs.existsSync(lock)).toBe(false);

    // Still full: the existing home opens, and the start says the disk is full, naming the home.
    const second = await spawnDaemon(env, await freePort());
    children.push(second.child);
    await expect
      .poll(() => second.output())
      .toContain(
        `errand start: warning: the disk is full at ${fs.realpathSync(home)} (0 KB free). Errand is running, but it cannot save new work`,
      );
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    expect(fs.existsSync(lock)).toBe(false);
  },
);
