// `errand install` while a daemon started by hand holds the home folder: the service's `errand
// start` must wait for that daemon to stop and then take over, not exit 75 (systemd retries that
// five times and then gives up for good).
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { startCommand } from '../../src/cli/commands/start.js';
import { startDaemon } from '../../src/daemon.js';
import { startWhenLockFree } from '../../src/service/lock-wait.js';
import { tempHome } from '../helpers/daemon.js';

const holders: ChildProcess[] = [];
afterEach(async () => {
  for (const h of holders.splice(0)) {
    if (h.exitCode === null && h.signalCode === null) {
      const gone = new Promise((r) => h.once('exit', r));
      h.kill('SIGKILL');
      await gone;
    }
  }
});

/** A live process whose pid is in the home's lock file, as a hand-started daemon leaves it. */
function holdLock(home: string): ChildProcess {
  const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  holders.push(holder);
  fs.writeFileSync(path.join(home, 'daemon.lock'), `${holder.pid}\n`, { mode: 0o600 });
  return holder;
}

function quietIo(env: NodeJS.ProcessEnv, errs: string[]): CliIO {
  return { out: () => {}, err: (t) => errs.push(t), env, interactive: false, confirm: async () => false };
}

describe('a service start while another daemon holds the home folder', () => {
  it('waits (saying so) instead of exiting 75, and stops waiting on SIGTERM with exit 0', async () => {
    const home = tempHome();
    const holder = holdLock(home);
    const errs: string[] = [];
    const before = new Set(process.listeners('SIGTERM'));
    const run = startCommand.run(
      { values: {}, positionals: [], home },
      quietIo({ ERRAND_SUPERVISOR: 'systemd', ERRAND_PORT: '0' }, errs),
    );
    await expect.poll(() => errs.join('\n')).toContain(`process ${holder.pid}`);
    expect(errs.join('\n')).toContain('waits for it to stop, then takes over');
    // systemctl stop while waiting: only the start command's own handler, not the test runner's.
    const added = process.listeners('SIGTERM').filter((l) => !before.has(l));
    expect(added.length).toBe(1);
    (added[0] as (s: NodeJS.Signals) => void)('SIGTERM');
    expect(await run).toBe(0);
    expect(process.listeners('SIGTERM').filter((l) => !before.has(l))).toEqual([]);
  });

  it('takes over once the holder exits', async () => {
    const home = tempHome();
    const holder = holdLock(home);
    const waitedFor: number[] = [];
    const stop = new AbortController();
    const starting = startWhenLockFree(
      () => startDaemon({ home, env: {}, overrides: { port: 0 } }),
      path.join(home, 'daemon.lock'),
      { signal: stop.signal, onWait: (pid) => waitedFor.push(pid), pollMs: 50 },
    );
    await expect.poll(() => waitedFor).toEqual([holder.pid]);
    holder.kill('SIGTERM');
    const daemon = await starting;
    try {
      expect(daemon).toBeDefined();
      expect((await fetch(`${daemon!.url}/healthz`)).status).toBe(200);
      // The lock names its holder first: "<pid> <start time> <boot id>" (store/lock.ts).
      expect(fs.readFileSync(path.join(home, 'daemon.lock'), 'utf8').split(' ')[0]).toBe(String(process.pid));
    } finally {
      await daemon?.stop('test');
    }
  });

  it('a start without a supervisor still refuses at once with 75', async () => {
    const home = tempHome();
    holdLock(home);
    const errs: string[] = [];
    const code = await startCommand.run({ values: {}, positionals: [], home }, quietIo({ ERRAND_PORT: '0' }, errs));
    expect(code).toBe(75);
    expect(errs.join('\n')).toContain('Another Errand daemon');
  });
});
