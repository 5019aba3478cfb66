// Two starts race to take over the lock a dead daemon left, and one of them is killed -9 part-way.
// Whatever step it was killed at, the home folder ends with one daemon and its lock in place: a
// third start is refused while that daemon runs, and what the killed start left is cleared.
// (Before, a start killed between moving the lock aside and putting it back took the winner's
// fresh lock with it, and a third start then ran beside the winner.)
// The kill is made by lock-step-hook.cjs, preloaded into the start that is killed.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { acquireLock, LockHeldError, lockHolder } from '../../src/store/lock.js';
import { PROJECT_ROOT } from '../../src/util/project-root.js';
import { freePort, killChildren, spawnDaemon } from '../helpers/cli.js';

const HOOK = path.join(import.meta.dirname, 'lock-step-hook.cjs');
const LOCK_MODULE = path.join(PROJECT_ROOT, 'dist', 'daemon', 'src', 'store', 'lock.js');
/** A dead daemon's lock: no process has a pid above the largest pid_max. */
const DEAD_DAEMON_LOCK = '99999999 1 -\n';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-lock-kill-'));
const children: ChildProcess[] = [];
afterEach(() => killChildren(children));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let homes = 0;
/** A home folder holding a dead daemon's lock. */
function homeWithDeadLock(): string {
  const dir = path.join(tmp, `home-${homes++}`);
  fs.mkdirSync(dir, { mode: 0o700 });
  fs.writeFileSync(path.join(dir, 'daemon.lock'), DEAD_DAEMON_LOCK);
  return dir;
}

/** Env that makes a start stop before a lock step until `resume` exists, then die -9 right after it. */
function killedAt(step: string, resume: string): Record<string, string> {
  return { NODE_OPTIONS: `--require ${HOOK}`, LOCK_STEP_PAUSE: step, LOCK_STEP_RESUME: resume, LOCK_STEP_KILL: '1' };
}

function watch(child: ChildProcess) {
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const paused = (async () => {
    while (!stderr.includes('LOCK-STEP paused')) {
      if (child.exitCode !== null || child.signalCode !== null) return undefined;
      await new Promise((r) => setTimeout(r, 10));
    }
    return /LOCK-STEP paused before (.*)/.exec(stderr)![1];
  })();
  const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
  return { paused, exited, stderr: () => stderr };
}

/**
 * A process that takes the lock with the built lock module, as a daemon does at start, and keeps
 * running when it won. Its result: "won", "held <pid>", or "error <message>".
 */
function lockStart(file: string, env: Record<string, string> = {}) {
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const m = await import(${JSON.stringify(LOCK_MODULE)});
       try { m.acquireLock(${JSON.stringify(file)}); console.log('won'); setInterval(() => {}, 1000); }
       catch (e) { console.log(e.exitCode === 75 ? 'held ' + e.pid : 'error ' + e.message); }`,
    ],
    { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let stdout = '';
  child.stdout!.on('data', (d) => (stdout += d));
  const result = (async () => {
    while (!stdout.includes('\n') && child.exitCode === null && child.signalCode === null) {
      await new Promise((r) => setTimeout(r, 10));
    }
    return stdout.trim();
  })();
  return { child, result, ...watch(child) };
}

describe.runIf(process.platform === 'linux')('a start killed -9 while taking over a dead daemon lock', () => {
  it('at any step, with another start racing it: of the two other starts exactly one runs, holding the lock', async () => {
    const outcomes: string[] = [];
    for (let step = 1; ; step++) {
      const dir = homeWithDeadLock();
      const file = path.join(dir, 'daemon.lock');
      const resume = path.join(tmp, `resume-${step}`);
      // B stops just before this step, so that A races it there.
      const b = lockStart(file, killedAt(String(step), resume));
      const pausedAt = await Promise.race([b.paused, b.result.then(() => undefined)]);
      if (pausedAt === undefined) {
        // B took the lock without reaching this step: every step of its start has been tried.
        expect(await b.result).toBe('won');
        expect(step).toBeGreaterThan(4);
        break;
      }
      const a = lockStart(file);
      const aResult = await a.result;
      fs.writeFileSync(resume, '');
      expect(await b.exited).toBe('SIGKILL');
      // C comes after B's death, while A still runs if it won.
      const c = lockStart(file);
      const cResult = await c.result;
      const outcome = `B killed after step ${pausedAt}; A: ${aResult}; C: ${cResult}`;
      outcomes.push(outcome);
      const winners = [aResult === 'won' && a, cResult === 'won' && c].filter((s) => s !== false);
      expect(winners.length, outcome).toBe(1);
      expect(winners[0]!.child.exitCode, `${outcome}: the winner still runs`).toBeNull();
      expect(fs.readFileSync(file, 'utf8').split(' ')[0], outcome).toBe(String(winners[0]!.child.pid));
      expect.soft(fs.readdirSync(dir), `${outcome}: what B left is cleared`).toEqual(['daemon.lock']);
      await killChildren(children);
    }
    // The steps that matter were reached: B killed holding the takeover and after removing the dead lock.
    expect(
      outcomes.some((o) => o.includes('openSync daemon.lock.takeover.')),
      outcomes.join('\n'),
    ).toBe(true);
    expect(
      outcomes.some((o) => o.includes('rmSync daemon.lock;')),
      outcomes.join('\n'),
    ).toBe(true);
  }, 120_000);
});

describe.runIf(process.platform === 'linux')('errand start killed -9 while taking over a dead daemon lock', () => {
  const env = { ANTHROPIC_API_KEY: 'sk-test-key' };
  type Attempt = { up: true; child: ChildProcess; url: string } | { up: false; why: string };

  async function tryStart(home: string): Promise<Attempt> {
    try {
      const d = await spawnDaemon({ ERRAND_HOME: home, ...env }, await freePort());
      children.push(d.child);
      return { up: true, child: d.child, url: d.url };
    } catch (err) {
      return { up: false, why: (err as Error).message };
    }
  }

  it('as it removes the dead lock, with a start racing it: one daemon runs, the other start is told', async () => {
    const home = homeWithDeadLock();
    const resume = path.join(tmp, 'resume-daemon');
    // B: judged the lock stale, stops before removing it, then dies -9 right after.
    const b = spawn(process.execPath, [path.join(PROJECT_ROOT, 'daemon', 'bin', 'errand.js'), 'start'], {
      env: {
        PATH: process.env.PATH ?? '',
        ERRAND_HOME: home,
        ERRAND_PORT: String(await freePort()),
        ...env,
        ...killedAt('lock-removal', resume),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(b);
    const watched = watch(b);
    expect(await watched.paused, watched.stderr()).toBeDefined();
    // A: a start while B is part-way through.
    const a = await tryStart(home);
    fs.writeFileSync(resume, '');
    expect(await watched.exited).toBe('SIGKILL');
    // C: a start after B died.
    const c = await tryStart(home);
    const running = [a, c].filter((s) => s.up);
    expect(running.length, 'daemons running on one home folder').toBe(1);
    const daemon = running[0]!;
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);
    expect(fs.readFileSync(path.join(home, 'daemon.lock'), 'utf8').split(' ')[0]).toBe(String(daemon.child.pid));
    // The refused one said who holds the home and what to do.
    const refused = [a, c].find((s) => !s.up) as { why: string };
    expect(refused.why).toContain('(75)');
    expect(refused.why).toMatch(/Another Errand daemon \(process \d+\) is (starting|already running) with this home/);
    expect(refused.why).toContain('Stop it first');
  }, 90_000);
});

describe.runIf(process.platform === 'linux')('what a start killed part-way left', () => {
  /** A live process that is not Errand, and the facts a lock or takeover mark names it by. */
  function liveProcess(): { pid: number; start: string; boot: string } {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    children.push(child);
    const stat = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '');
    return { pid: child.pid!, start, boot };
  }

  it("a running daemon's lock an older Errand moved aside is put back, and the start refused", () => {
    const dir = homeWithDeadLock();
    const file = path.join(dir, 'daemon.lock');
    const running = liveProcess();
    // The older takeover's aftermath: the start that moved it aside was killed, the name is free.
    fs.rmSync(file);
    fs.writeFileSync(`${file}.99999998.old`, `${running.pid} ${running.start} ${running.boot}\n`);
    expect(() => acquireLock(file)).toThrow(LockHeldError);
    expect(fs.readFileSync(file, 'utf8').split(' ')[0]).toBe(String(running.pid));
    expect(fs.readdirSync(dir)).toEqual(['daemon.lock']);
  });

  it('a live start part-way through its takeover holds the home: told as starting, and waited for', () => {
    const dir = homeWithDeadLock();
    const file = path.join(dir, 'daemon.lock');
    const taker = liveProcess();
    fs.writeFileSync(`${file}.takeover.${taker.pid}_${taker.start}_${taker.boot}_0badf00d`, '');
    expect(() => acquireLock(file)).toThrow(`Another Errand daemon (process ${taker.pid}) is starting`);
    // The login service's start polls this while it waits, rather than trying again at once.
    expect(lockHolder(file)).toBe(taker.pid);
    expect(fs.readFileSync(file, 'utf8')).toBe(DEAD_DAEMON_LOCK);
  });
});
