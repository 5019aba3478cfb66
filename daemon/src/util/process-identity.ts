// Which process a pid is now. After kill -9, a power cut or a reboot a pid is often reused by an
// unrelated process, so a file that names its writer by pid alone can look held for good. A process
// is named here by its pid, its start time as the system counts it (clock ticks since boot in
// /proc/<pid>/stat, or the start second `ps` gives where there is no /proc) and the boot; a name is
// alive only while a live process matches all of them. The daemon's lock (store/lock.ts) and
// config.json's (config/config-lock.ts) judge their holders with these facts.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export interface ProcessName {
  pid: number;
  start?: string;
  boot?: string;
}

/** This process's name. */
export function ownProcessName(): ProcessName {
  return { pid: process.pid, start: processFacts(process.pid)?.start, boot: bootId() };
}

/**
 * Is the process this name was written for still running? Where the system says too little to
 * tell, a live pid counts as alive: a holder is never judged dead while it may be running.
 */
export function isAlive(name: ProcessName): boolean {
  if (!Number.isInteger(name.pid) || name.pid <= 0) return false;
  const boot = bootId();
  if (name.boot && boot && name.boot !== boot) return false; // written before a reboot
  if (!processExists(name.pid)) return false;
  const facts = processFacts(name.pid);
  if (!facts) return true;
  if (facts.state.startsWith('Z') || facts.state.startsWith('X')) return false; // ended, not yet reaped
  return !name.start || !facts.start || facts.start === name.start;
}

export interface ProcessFacts {
  /** Its state letter(s): Z is a zombie (ended, not yet reaped). */
  state: string;
  /** When it started, as the system counts it: the same for the same process, every time. */
  start?: string;
  /** When it started, on this clock (to judge a lock an older Errand wrote). */
  startedAtMs?: number;
}

const HAS_PROC = fs.existsSync('/proc/self/stat');

/** What the system says about a process; undefined when it cannot be told here. */
export function processFacts(pid: number): ProcessFacts | undefined {
  return HAS_PROC ? factsFromProc(pid) : factsFromPs(pid);
}

/** Clock ticks per second of /proc's times (USER_HZ, 100 on every Linux Node runs on). */
const TICKS_PER_SECOND = 100;

function factsFromProc(pid: number): ProcessFacts | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone meanwhile, or hidden (/proc mounted with hidepid)
  }
  // The name (field 2) may hold spaces and parentheses: count the fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = fields[19]; // field 22, starttime
  const bootSeconds = bootTimeSeconds();
  return {
    state: fields[0] ?? '',
    start: ticks,
    startedAtMs:
      ticks && bootSeconds !== undefined ? bootSeconds * 1000 + (Number(ticks) * 1000) / TICKS_PER_SECOND : undefined,
  };
}

function bootTimeSeconds(): number | undefined {
  try {
    const match = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Where there is no /proc (macOS): `ps`, in the C locale so its date always parses. */
export function factsFromPs(pid: number): ProcessFacts | undefined {
  const r = spawnSync('ps', ['-o', 'stat=', '-o', 'lstart=', '-p', String(pid)], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
    timeout: 5000,
  });
  const match = r.status === 0 ? /^\s*(\S+)\s+(.+?)\s*$/.exec(r.stdout) : null;
  if (!match) return undefined;
  const startedAtMs = Date.parse(match[2]);
  return Number.isNaN(startedAtMs)
    ? { state: match[1] }
    : { state: match[1], start: String(startedAtMs / 1000), startedAtMs };
}

/** Whether a process with this pid runs (another user's counts). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // another user's process
  }
}

let boot: string | null | undefined;
/** This boot of the machine (Linux), without its dashes: what was written in an earlier boot names no live process. */
export function bootId(): string | undefined {
  if (boot === undefined) {
    try {
      boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '');
    } catch {
      boot = null;
    }
  }
  return boot ?? undefined;
}
