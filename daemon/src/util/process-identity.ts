// Which process a pid is now. After kill -9, a power cut or a reboot a pid is often reused by an
// unrelated process, so a file that names its writer by pid alone can look held for good. A process
// is named here by its pid, its start time as the system counts it (clock ticks since boot in
// /proc/<pid>/stat, or the start second `ps` gives where there is no /proc) and the boot; a name is
// alive only while a live process matches all of them. (store/lock.ts judges the daemon's lock the
// same way.)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export interface ProcessName {
  pid: number;
  start?: string;
  boot?: string;
}

/** This process's name. */
export function ownProcessName(): ProcessName {
  return { pid: process.pid, start: startOf(process.pid), boot: bootId() };
}

/**
 * Is the process this name was written for still running? Where the system says too little to
 * tell, a live pid counts as alive: a holder is never judged dead while it may be running.
 */
export function isAlive(name: ProcessName): boolean {
  if (!Number.isInteger(name.pid) || name.pid <= 0) return false;
  const boot = bootId();
  if (name.boot && boot && name.boot !== boot) return false; // written before a reboot
  if (!exists(name.pid)) return false;
  const facts = HAS_PROC ? factsFromProc(name.pid) : factsFromPs(name.pid);
  if (!facts) return true;
  if (facts.state.startsWith('Z') || facts.state.startsWith('X')) return false; // ended, not yet reaped
  return !name.start || !facts.start || facts.start === name.start;
}

interface Facts {
  state: string;
  start?: string;
}

const HAS_PROC = fs.existsSync('/proc/self/stat');

function startOf(pid: number): string | undefined {
  return (HAS_PROC ? factsFromProc(pid) : factsFromPs(pid))?.start;
}

function factsFromProc(pid: number): Facts | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone meanwhile, or hidden (/proc mounted with hidepid)
  }
  // The name (field 2) may hold spaces and parentheses: count the fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', start: fields[19] }; // field 22, starttime
}

/** Where there is no /proc (macOS): `ps`, in the C locale so its date always parses. */
function factsFromPs(pid: number): Facts | undefined {
  const r = spawnSync('ps', ['-o', 'stat=', '-o', 'lstart=', '-p', String(pid)], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
    timeout: 5000,
  });
  const match = r.status === 0 ? /^\s*(\S+)\s+(.+?)\s*$/.exec(r.stdout) : null;
  if (!match) return undefined;
  const startedAtMs = Date.parse(match[2]);
  return { state: match[1], start: Number.isNaN(startedAtMs) ? undefined : String(startedAtMs / 1000) };
}

function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // another user's process
  }
}

let boot: string | null | undefined;
/** This boot of the machine (Linux), without its dashes. */
function bootId(): string | undefined {
  if (boot === undefined) {
    try {
      boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().replace(/-/g, '');
    } catch {
      boot = null;
    }
  }
  return boot ?? undefined;
}
