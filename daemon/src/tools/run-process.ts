// Run one command as its own process group and end it cleanly: when it exits (a process it left behind
// holding the pipes does not keep the call open), at its time limit, or on cancel; then everything it
// started (its group and every process carrying its marker) is killed. Used by the shell tool and by the
// sandbox's own probes. A shell command also runs under memory and process limits (ProcessLimits).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { CALL_MARKER_VAR, killMarked, newCallMarker } from './descendants.js';
import type { ProcessNotes } from './orphans.js';
import { underKeeper } from './subreaper.js';
import { fmt, HeadTailBuffer } from './util.js';

/** Limits for a command and everything it starts (config shell.maxMemoryMB, shell.maxProcesses). */
export interface ProcessLimits {
  /**
   * Memory each process may hold, in MB: RLIMIT_DATA (private writable memory). Not RLIMIT_AS: an
   * address-space limit breaks programs that reserve large ranges they never use (node, a JVM).
   */
  memoryMB: number;
  /** Processes and threads the command may run at once: RLIMIT_NPROC, watched where the kernel does not apply it (root). */
  processes: number;
}

/**
 * Sets the limits, never raising one already lower, then runs the command in its place: `ulimit -d`
 * (KB), and `ulimit -u` (bash) or `-p` (dash) for processes. Setting both soft and hard limits means
 * the command cannot raise them again.
 */
const LIMIT_SCRIPT = [
  'lim() { c=$(ulimit "$1" 2>/dev/null) || return 1; if [ "$c" = unlimited ] || [ "$c" -gt "$2" ]; then c=$2; fi; ulimit "$1" "$c" 2>/dev/null; }',
  'lim -d "$1" || echo "errand: could not set the memory limit" >&2',
  '{ lim -u "$2" || lim -p "$2"; } || echo "errand: could not set the process limit" >&2',
  'shift 2',
  'exec "$@"',
].join('; ');

/**
 * argv run under the limits, through /bin/sh (on every Unix, also inside the sandbox). Inside the
 * sandbox's own user namespace the kernel counts RLIMIT_NPROC for that namespace, so `processes` is
 * the command's own count; outside it counts every process of the user, see runProcess.
 */
export function limitArgv(argv: string[], limits: ProcessLimits, processes = limits.processes): string[] {
  return [
    '/bin/sh',
    '-c',
    LIMIT_SCRIPT,
    'errand-limits',
    String(Math.floor(limits.memoryMB * 1024)),
    String(Math.floor(processes)),
    ...argv,
  ];
}

/** Tasks (processes and threads) on the system now (Linux: /proc/loadavg), or undefined. */
function systemTasks(): number | undefined {
  try {
    const total = Number(fs.readFileSync('/proc/loadavg', 'latin1').split(' ')[3]?.split('/')[1]);
    return Number.isFinite(total) ? total : undefined;
  } catch {
    return undefined;
  }
}

/** Tasks (processes and threads) of this user now (Linux; elsewhere 0): what RLIMIT_NPROC counts. */
function userTasks(): number {
  const uid = process.getuid?.();
  if (process.platform !== 'linux' || uid === undefined) return 0;
  let n = 0;
  try {
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        if (fs.statSync(`/proc/${name}`).uid !== uid) continue;
        const stat = fs.readFileSync(`/proc/${name}/stat`, 'latin1');
        n += Math.max(1, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[17]) || 0); // field 20: num_threads
      } catch {
        /* gone */
      }
    }
  } catch {
    return 0;
  }
  return n;
}

/** Tasks (processes and threads, a zombie counting one) in the process tree under `root` (Linux). */
function treeTasks(root: number): number {
  const kids = new Map<number, number[]>();
  const threads = new Map<number, number>();
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // gone
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    const pid = Number(name);
    const ppid = Number(f[1]);
    threads.set(pid, Math.max(1, Number(f[17]) || 0)); // field 20: num_threads
    const list = kids.get(ppid);
    if (list) list.push(pid);
    else kids.set(ppid, [pid]);
  }
  let n = 0;
  for (const stack = [root]; stack.length; ) {
    const pid = stack.pop()!;
    n += threads.get(pid) ?? 0;
    for (const k of kids.get(pid) ?? []) stack.push(k);
  }
  return n;
}

/** How often the process watch looks (when the kernel does not apply RLIMIT_NPROC). */
const WATCH_MS = 250;
/** The watch walks the process tree when the system's task count grew by half the limit, or this often anyway. */
const WATCH_FULL_MS = 5_000;

/**
 * What the result says about a limit: that the command was stopped at one, or, when it failed the way
 * a program does at one (out of memory, fork refused), that it may have hit it.
 */
export function limitNote(res: RunResult, limits: ProcessLimits | undefined): string | undefined {
  if (!limits) return undefined;
  const procs = `${fmt(limits.processes)} processes and threads`;
  if (res.limit === 'processes') return `stopped: it ran more than ${procs} at once (shell.maxProcesses)`;
  if (res.error || res.timedOut || res.cancelled || res.code === 0) return undefined;
  const out = res.output;
  if (
    /MemoryError|Cannot allocate memory|cannot allocate|out of memory|allocation failed|bad_alloc|ENOMEM|memory exhausted/i.test(
      out,
    ) ||
    ['SIGSEGV', 'SIGABRT', 'SIGBUS'].includes(res.signal ?? '') ||
    [134, 135, 139].includes(res.code ?? 0)
  )
    return `it may have run out of memory: each process may use up to ${fmt(limits.memoryMB)} MB (shell.maxMemoryMB)`;
  if (/Resource temporarily unavailable|fork: retry|can't fork|cannot fork|EAGAIN/i.test(out))
    return `it may have hit the limit of ${procs} (shell.maxProcesses)`;
  return undefined;
}

export interface RunResult {
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  output: string;
  bytes: number;
  truncated: boolean;
  error?: string;
  /** Stopped because it went over this limit. */
  limit?: 'processes';
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
    /**
     * Memory and process limits. Set here unless `applied` (the sandbox sets them inside, see
     * limitArgv); here the kernel counts all of the user's processes, so the process limit is set at
     * what the user runs now plus `processes`.
     */
    limits?: ProcessLimits & { applied?: boolean };
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
    const lim = opts.limits;
    // The kernel does not apply RLIMIT_NPROC to root: the process tree is watched instead.
    const watchTasks = !!lim && process.platform === 'linux' && process.getuid?.() === 0;
    const limited = lim && !lim.applied ? limitArgv(argv, lim, lim.processes + (watchTasks ? 0 : userTasks())) : argv;
    const kept = opts.keeper ? underKeeper(limited) : undefined;
    const spawnArgv = kept ?? limited;
    let limit: RunResult['limit'];
    const baseline = watchTasks ? systemTasks() : undefined;
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
      clearInterval(watch);
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
        limit,
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
    let lastFull = Date.now();
    const watch = watchTasks
      ? setInterval(() => {
          if (ended || limit || child.pid === undefined || !lim) return;
          const now = systemTasks();
          const grew = now === undefined || baseline === undefined || now - baseline > lim.processes / 2;
          if (!grew && Date.now() - lastFull < WATCH_FULL_MS) return;
          lastFull = Date.now();
          if (treeTasks(child.pid) <= lim.processes) return;
          limit = 'processes';
          stopAll();
          endSoon(END_AFTER_KILL_MS);
        }, WATCH_MS)
      : undefined;
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
