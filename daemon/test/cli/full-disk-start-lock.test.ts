// A start on a disk with not one byte free:
// - an existing home starts and warns, as README says: taking the lock needs no new block (it was
//   refused with 74, leaving an empty daemon.lock behind);
// - a home not made yet under the login service (ERRAND_SUPERVISOR) is not an exit 74, which
//   systemd restarts five times and then gives up on for good: the start says the disk is full,
//   tries again, and starts by itself once there is room.
// Needs root (a tmpfs), as the other full-disk tests.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { homePaths } from '../../src/config/paths.js';
import { startDaemon } from '../../src/daemon.js';
import { startWhenLockFree } from '../../src/service/lock-wait.js';
import { ERRAND_BIN, freePort, killChildren, spawnDaemon } from '../helpers/cli.js';
import { canMountSmallDisk, fill, type SmallDisk, smallDisk } from '../helpers/small-disk.js';

const children: ChildProcess[] = [];
let disk: SmallDisk | undefined;
afterEach(async () => {
  await killChildren(children);
  disk?.release();
  disk = undefined;
});

it.runIf(canMountSmallDisk)(
  'an existing home on a disk with 0 bytes free starts and warns, and its lock is gone after the stop',
  async () => {
    disk = smallDisk('8m')!;
    const home = path.join(disk.dir, 'home');
    fs.mkdirSync(home, { mode: 0o700 });
    const env = { ERRAND_HOME: home, ANTHROPIC_API_KEY: '' };
    const lock = homePaths(home).lock;
    // A home that has run before, stopped cleanly: no lock file is left to reuse.
    const first = await spawnDaemon(env, await freePort());
    children.push(first.child);
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    expect(fs.existsSync(lock)).toBe(false);
    fill(path.join(disk.dir, 'filler'));
    expect(fs.statfsSync(disk.dir).bavail).toBe(0);

    const second = await spawnDaemon(env, await freePort());
    children.push(second.child);
    await expect
      .poll(() => second.output())
      .toContain(`errand start: warning: the disk is full at ${fs.realpathSync(home)} (0 KB free).`);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    expect(fs.lstatSync(lock, { throwIfNoEntry: false })).toBeUndefined();
  },
);

it.runIf(canMountSmallDisk)(
  'under the login service a home not made yet on a full disk waits for room instead of exiting 74',
  async () => {
    disk = smallDisk('8m')!;
    const home = path.join(disk.dir, 'home');
    const free = fill(path.join(disk.dir, 'filler'));
    const child = spawn(process.execPath, [ERRAND_BIN, 'start'], {
      env: {
        PATH: process.env.PATH ?? '',
        ERRAND_HOME: home,
        ERRAND_PORT: String(await freePort()),
        ERRAND_SUPERVISOR: 'systemd',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await expect
      .poll(() => stderr, { timeout: 15_000 })
      .toContain(`errand start: The disk is full at ${home}, so Errand cannot start yet.`);
    expect(stderr).toContain('the service tries again every 30 s and starts by itself');
    await new Promise((r) => setTimeout(r, 500));
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM'); // systemctl stop while it waits
    expect(await exited).toBe(0);
    free();
  },
);

it.runIf(canMountSmallDisk)('the service start tries again and starts once there is room', async () => {
  disk = smallDisk('8m')!;
  const home = path.join(disk.dir, 'home');
  const free = fill(path.join(disk.dir, 'filler'));
  const toldFull: string[] = [];
  const stop = new AbortController();
  const starting = startWhenLockFree(
    () => startDaemon({ home, env: {}, overrides: { port: 0 } }),
    homePaths(home).lock,
    { signal: stop.signal, onWait: () => {}, onDiskFull: (err) => toldFull.push(err.message), diskRetryMs: 100 },
  );
  await expect.poll(() => toldFull.length, { timeout: 15_000 }).toBe(1);
  free();
  const daemon = await starting;
  try {
    expect(toldFull).toHaveLength(1); // said once, not at every try
    expect((await fetch(`${daemon!.url}/healthz`)).status).toBe(200);
  } finally {
    await daemon?.stop('test');
  }
});
