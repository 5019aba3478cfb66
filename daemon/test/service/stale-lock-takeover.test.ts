// A lock left by a daemon that ended (kill -9, a power cut, a reboot) never blocks a start, even
// when its pid now belongs to an unrelated live process or to the dead daemon's zombie: `errand
// start` takes it over, the login service starts at once instead of waiting for ever, and doctor
// names it. A lock a live daemon holds still refuses (75), and two starts racing for a dead
// daemon's lock never both win.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startDaemon } from '../../src/daemon.js';
import { runDoctor } from '../../src/doctor/checks.js';
import { startWhenLockFree } from '../../src/service/lock-wait.js';
import { recordingRunner } from '../../src/service/runner.js';
import { acquireLock, LockHeldError, lockHolder } from '../../src/store/lock.js';
import { factsFromPs } from '../../src/util/process-identity.js';
import { PROJECT_ROOT } from '../../src/util/project-root.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-stale-lock-'));
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await gone;
    }
  }
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let homes = 0;
function home(): string {
  const dir = path.join(tmp, `home-${homes++}`);
  fs.mkdirSync(dir, { mode: 0o700 });
  return dir;
}
const lockOf = (dir: string) => path.join(dir, 'daemon.lock');

/** A live process that has nothing to do with Errand: it stands in for one that reused a dead daemon's pid. */
function unrelatedProcess(): ChildProcess {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  children.push(child);
  return child;
}

/** What /proc says about a process: its start (clock ticks since boot) and this boot's id. */
function procIdentity(pid: number): { start: string; boot: string } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
  const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '');
  return { start, boot };
}

/** A dead child not yet reaped: `sleep` (exec'd by sh) never waits for the shell's background job. */
async function zombiePid(): Promise<number> {
  const parent = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(parent);
  const pid = Number((await new Promise<Buffer>((r) => parent.stdout!.once('data', r))).toString().trim());
  await expect.poll(() => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0]).toBe('Z');
  return pid;
}

/** A process that took the lock with the built lock module, as a daemon in another process does. */
async function lockHolderProcess(file: string): Promise<ChildProcess> {
  const lockModule = path.join(PROJECT_ROOT, 'dist', 'daemon', 'src', 'store', 'lock.js');
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(lockModule)}); m.acquireLock(${JSON.stringify(file)}); console.log('locked'); setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  await new Promise((r) => child.stdout!.once('data', r));
  return child;
}

describe.runIf(process.platform === 'linux')('a lock left by a daemon that ended', () => {
  it('whose pid now belongs to an unrelated live process is taken over', () => {
    const dir = home();
    const other = unrelatedProcess();
    // The dead daemon wrote its own start time; the process now holding its pid started later.
    const { boot } = procIdentity(other.pid!);
    fs.writeFileSync(lockOf(dir), `${other.pid} 12345 ${boot}\n`, { mode: 0o600 });
    expect(lockHolder(lockOf(dir))).toBeUndefined();

    const lock = acquireLock(lockOf(dir));
    expect(fs.readFileSync(lockOf(dir), 'utf8').split(' ')[0]).toBe(String(process.pid));
    lock.release();
    expect(fs.existsSync(lockOf(dir))).toBe(false);
  });

  it('written before a reboot is stale, whatever process has its pid now', () => {
    const dir = home();
    const other = unrelatedProcess();
    const { start } = procIdentity(other.pid!);
    fs.writeFileSync(lockOf(dir), `${other.pid} ${start} 0123456789abcdef0123456789abcdef\n`);
    expect(lockHolder(lockOf(dir))).toBeUndefined();
    acquireLock(lockOf(dir)).release();
  });

  it("whose daemon is a zombie not yet reaped (right after kill -9) is taken over, even an older Errand's pid-only lock", async () => {
    const dir = home();
    const zombie = await zombiePid();
    fs.writeFileSync(lockOf(dir), `${zombie}\n`);
    expect(lockHolder(lockOf(dir))).toBeUndefined();
    acquireLock(lockOf(dir)).release();
  });

  it("an older Errand's pid-only lock: a process that started after it was written only reuses the pid", () => {
    const dir = home();
    const other = unrelatedProcess();
    fs.writeFileSync(lockOf(dir), `${other.pid}\n`);
    const anHourAgo = new Date(Date.now() - 3600_000);
    fs.utimesSync(lockOf(dir), anHourAgo, anHourAgo);
    expect(lockHolder(lockOf(dir))).toBeUndefined();
    // Written after that process started, it may be its own lock: held (an older daemon still running).
    fs.writeFileSync(lockOf(dir), `${other.pid}\n`);
    expect(lockHolder(lockOf(dir))).toBe(other.pid);
  });

  it('does not make the login service wait: it starts at once', async () => {
    const dir = home();
    const other = unrelatedProcess();
    fs.writeFileSync(lockOf(dir), `${other.pid} 1 ${procIdentity(other.pid!).boot}\n`);
    const waitedFor: number[] = [];
    const stop = new AbortController();
    const timeout = setTimeout(() => stop.abort(), 15_000);
    const daemon = await startWhenLockFree(
      () => startDaemon({ home: dir, env: {}, overrides: { port: 0 } }),
      lockOf(dir),
      { signal: stop.signal, onWait: (pid) => waitedFor.push(pid), pollMs: 50 },
    );
    clearTimeout(timeout);
    try {
      expect(waitedFor).toEqual([]);
      expect(daemon).toBeDefined();
      expect((await fetch(`${daemon!.url}/healthz`)).status).toBe(200);
    } finally {
      await daemon?.stop('test');
    }
  });

  it('is named by doctor, which says the next start takes it over', async () => {
    const dir = home();
    const other = unrelatedProcess();
    fs.writeFileSync(lockOf(dir), `${other.pid} 1 ${procIdentity(other.pid!).boot}\n`);
    const offline: typeof fetch = async () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } });
    };
    const checks = await runDoctor({
      home: dir,
      env: { PATH: '/usr/bin:/bin', HOME: path.join(tmp, 'user') },
      platform: 'linux',
      run: recordingRunner().run,
      fetch: offline,
      timeoutMs: 500,
    });
    const daemon = checks.find((c) => c.id === 'daemon')!;
    expect(daemon.status).toBe('fail');
    expect(daemon.detail).toBe(
      `not running; the lock ${lockOf(dir)} is left from a daemon that ended (process ${other.pid}), and the next start takes it over`,
    );
    expect(daemon.fix).toContain('errand start');
  });
});

describe.runIf(process.platform === 'linux')('where there is no /proc (macOS)', () => {
  it('`ps` tells a zombie from a live process, and gives a start that stays the same', async () => {
    expect(factsFromPs(await zombiePid())?.state).toMatch(/^Z/);
    const other = unrelatedProcess();
    const first = factsFromPs(other.pid!);
    expect(first?.state).toMatch(/^[SR]/);
    expect(first?.start).toBeDefined();
    expect(factsFromPs(other.pid!)?.start).toBe(first?.start);
    expect(Math.abs(first!.startedAtMs! - Date.now())).toBeLessThan(60_000);
    other.kill('SIGKILL');
    await new Promise((r) => other.once('exit', r));
    expect(factsFromPs(other.pid!)).toBeUndefined();
  });
});

describe.runIf(process.platform === 'linux')('a lock a live daemon holds', () => {
  it('still refuses a second start (75), and doctor says which process holds it', async () => {
    const dir = home();
    const holder = await lockHolderProcess(lockOf(dir));
    expect(lockHolder(lockOf(dir))).toBe(holder.pid);
    expect(() => acquireLock(lockOf(dir))).toThrow(LockHeldError);
    const checks = await runDoctor({
      home: dir,
      env: { PATH: '/usr/bin:/bin', HOME: path.join(tmp, 'user') },
      platform: 'linux',
      run: recordingRunner().run,
      fetch: async () => new Response('{}', { status: 401 }),
      timeoutMs: 500,
    });
    expect(checks.find((c) => c.id === 'daemon')!.detail).toContain(`process ${holder.pid} holds the home folder`);
    // Once it is gone, its lock is taken over.
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    acquireLock(lockOf(dir)).release();
  });

  it('two starts racing for a dead daemon lock: exactly one wins, the other is told who holds it', async () => {
    const dir = home();
    const zombie = await zombiePid();
    for (let round = 0; round < 3; round++) {
      fs.writeFileSync(lockOf(dir), `${zombie}\n`);
      const go = path.join(dir, `go-${round}`);
      const lockModule = path.join(PROJECT_ROOT, 'dist', 'daemon', 'src', 'store', 'lock.js');
      const racers = Array.from({ length: 3 }, () => {
        const child = spawn(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `const m = await import(${JSON.stringify(lockModule)}); const fs = await import('node:fs');
             while (!fs.existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 2));
             try { m.acquireLock(${JSON.stringify(lockOf(dir))}); console.log('won'); } catch (e) { console.log(e.exitCode === 75 ? 'held' : 'error ' + e.message); }
             setTimeout(() => {}, 800);`,
          ],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        children.push(child);
        let out = '';
        child.stdout!.on('data', (d) => (out += d));
        return new Promise<string>((r) => child.once('exit', () => r(out.trim())));
      });
      await new Promise((r) => setTimeout(r, 300)); // all loaded and polling
      fs.writeFileSync(go, '');
      const results = (await Promise.all(racers)).sort();
      expect(results).toEqual(['held', 'held', 'won']);
    }
  });
});
