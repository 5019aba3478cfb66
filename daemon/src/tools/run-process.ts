// Run one command as its own process group and end it cleanly: when it exits (a process it left behind
// holding the pipes does not keep the call open), at its time limit, or on cancel; then everything it
// started (its group and every process carrying its marker) is killed. Used by the shell tool and by the
// sandbox's own probes.
import { spawn } from 'node:child_process';
import { CALL_MARKER_VAR, killMarked, newCallMarker } from './descendants.js';
import type { ProcessNotes } from './orphans.js';
import { underKeeper } from './subreaper.js';
import { HeadTailBuffer } from './util.js';

export interface RunResult {
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  output: string;
  bytes: number;
  truncated: boolean;
  error?: string;
}

/** After the command exits, how long its output may still drain before the call ends anyway. */
const DRAIN_AFTER_EXIT_MS = 300;
/** After a kill (timeout, cancel), how long before the call ends whatever still holds its pipes. */
const END_AFTER_KILL_MS = 1_000;
/** How long the keeper has to kill what the command started before the group is killed anyway. */
const KEEPER_GRACE_MS = 300;

/**
 * Run argv in its own process group. The call ends when the command exits (a process it left
 * behind holding the pipes does not keep it open) or at its timeout; then its process group and
 * every process carrying its marker (descendants, also setsid ones) are killed.
 */
export function runProcess(
  argv: string[],
  opts: {
    cwd: string;
    env: Record<string, string>;
    timeoutMs: number;
    maxOutputBytes: number;
    signal: AbortSignal;
    notes?: ProcessNotes;
    /** Run under the subreaper keeper (no sandbox: nothing else contains what the command leaves). */
    keeper?: boolean;
  },
): Promise<RunResult> {
  return new Promise((resolve) => {
    const out = new HeadTailBuffer(opts.maxOutputBytes);
    const marker = newCallMarker();
    let timedOut = false;
    let cancelled = false;
    let error: string | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let ended = false;
    let endTimer: NodeJS.Timeout | undefined;
    const kept = opts.keeper ? underKeeper(argv) : undefined;
    const spawnArgv = kept ?? argv;
    const child = spawn(spawnArgv[0], spawnArgv.slice(1), {
      cwd: opts.cwd,
      env: { ...opts.env, [CALL_MARKER_VAR]: marker },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid !== undefined) opts.notes?.add(child.pid, argv[0], marker);
    let backstop: NodeJS.Timeout | undefined;
    /** Timeout or cancel: the keeper kills every descendant itself; the group kill follows as a backstop. */
    const stopAll = () => {
      if (!kept || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return killAll();
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      backstop ??= setTimeout(killAll, KEEPER_GRACE_MS);
    };
    const killAll = () => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          try {
            child.kill('SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
      killMarked([marker]);
    };
    const finish = () => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      clearTimeout(endTimer);
      clearTimeout(backstop);
      opts.signal.removeEventListener('abort', onAbort);
      killAll(); // anything the command left behind
      child.stdout?.destroy();
      child.stderr?.destroy();
      if (child.pid !== undefined) opts.notes?.remove(child.pid);
      resolve({
        code: exit?.code ?? null,
        signal: exit?.signal ?? (timedOut || cancelled ? 'SIGKILL' : null),
        timedOut,
        cancelled,
        output: out.text(),
        bytes: out.total,
        truncated: out.truncated,
        error,
      });
    };
    const endSoon = (ms: number) => {
      if (!ended && !endTimer) endTimer = setTimeout(finish, ms);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stopAll();
      endSoon(END_AFTER_KILL_MS);
    }, opts.timeoutMs);
    const onAbort = () => {
      cancelled = true;
      stopAll();
      endSoon(END_AFTER_KILL_MS);
    };
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => out.push(c));
    child.on('error', (err) => {
      error = err.message;
      endSoon(0);
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      endSoon(DRAIN_AFTER_EXIT_MS);
    });
    child.on('close', (code, signal) => {
      exit ??= { code, signal };
      finish();
    });
  });
}
