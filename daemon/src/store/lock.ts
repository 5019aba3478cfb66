// One daemon per home folder: an exclusive lock file naming the daemon that holds it.
//
// A pid alone does not say who holds the lock: after a reboot, a power cut or kill -9 the pid is
// often reused by an unrelated process (or the dead daemon is a zombie not yet reaped), and a lock
// judged by the pid alone then blocks every start for good. So the lock says which process wrote
// it: "<pid> <start time> <boot id>", the start time as the system counts it (clock ticks since
// boot in /proc/<pid>/stat, or the start second `ps` gives where there is no /proc). It is held
// only while a live process matches all of them. The pid comes first, so an older Errand still
// reads it; a lock an older Errand wrote (a pid only) is judged by when it was written.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export class LockHeldError extends Error {
  readonly exitCode = 75; // EX_TEMPFAIL
  constructor(
    readonly pid: number,
    file: string,
  ) {
    super(
      `Another Errand daemon (process ${pid}) is already running with this home folder (lock ${file}). Stop it first, or set ERRAND_HOME to use another folder.`,
    );
  }
}

export interface Lock {
  release(): void;
}

/** What a lock file says, and which file (inode) said it. */
interface LockRecord {
  text: string;
  pid: number;
  start?: string;
  boot?: string;
  writtenAtMs: number;
  ino: number;
}

/** A lock file, as the next start would judge it. */
export type LockState =
  | { kind: 'free' }
  | { kind: 'held'; pid: number }
  /** Left by a daemon that ended (crash, kill -9, power cut): the next start takes it over. */
  | { kind: 'stale'; pid?: number };

export function acquireLock(file: string): Lock {
  const mine = lockText(process.pid, ownFacts());
  for (let attempt = 0; attempt < 5; attempt++) {
    if (place(file, mine)) return { release: () => removeIfStill(file, mine) };
    const found = readLock(file);
    if (!found) continue; // released meanwhile
    if (isHeld(found)) throw new LockHeldError(found.pid, file);
    takeOver(file, found);
  }
  throw new Error(
    `Could not take the lock ${file}: other Errand daemons kept starting with this home folder. Stop them, then start Errand again.`,
  );
}

export function inspectLock(file: string): LockState {
  const found = readLock(file);
  if (!found) return { kind: 'free' };
  if (isHeld(found)) return { kind: 'held', pid: found.pid };
  return { kind: 'stale', pid: Number.isInteger(found.pid) ? found.pid : undefined };
}

/** The pid holding the lock, if a live daemon does. */
export function lockHolder(file: string): number | undefined {
  const state = inspectLock(file);
  return state.kind === 'held' ? state.pid : undefined;
}

// --- the lock file ---------------------------------------------------------------------------

function lockText(pid: number, facts: ProcessFacts | undefined): string {
  return `${pid} ${facts?.start ?? '-'} ${bootId() ?? '-'}\n`;
}

function parseLock(text: string): Pick<LockRecord, 'pid' | 'start' | 'boot'> {
  const [pid, start, boot] = text.trim().split(/\s+/);
  const known = (word: string | undefined) => (word && word !== '-' ? word : undefined);
  return { pid: /^\d+$/.test(pid ?? '') ? Number(pid) : Number.NaN, start: known(start), boot: known(boot) };
}

/**
 * Create the lock, complete, in one step: written to a file of our own, then linked to its name
 * (fails if the name exists). Another start never sees it half written and takes that for stale.
 * False when a lock is there already.
 */
function place(file: string, text: string): boolean {
  const own = `${file}.${process.pid}.tmp`;
  try {
    writeSynced(own, text);
  } catch (err) {
    fs.rmSync(own, { force: true });
    // No block left for the text (a full disk): a short symbolic link holds it in the
    // directory entry's inode, so a home that exists still starts, as on a disk with room.
    if (isDiskFull(err)) return createOrExisting(() => fs.symlinkSync(text.trim(), file));
    throw err;
  }
  try {
    return createOrExisting(() => fs.linkSync(own, file));
  } catch (err) {
    // A file system without hard links: create the name and write it, as older versions did.
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(errorCode(err))) throw err;
    return createOrExisting(() => writeSynced(file, text, 'wx'));
  } finally {
    fs.rmSync(own, { force: true });
  }
}

function writeSynced(file: string, text: string, flags = 'w'): void {
  const fd = fs.openSync(file, flags, 0o600);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function createOrExisting(create: () => void): boolean {
  try {
    create();
    return true;
  } catch (err) {
    if (errorCode(err) === 'EEXIST') return false;
    throw err;
  }
}

/** The lock as it is now (a file, or the link a full disk left), undefined when there is none. */
function readLock(file: string): LockRecord | undefined {
  try {
    for (;;) {
      const before = fs.lstatSync(file);
      // Trimmed: the link a full disk left holds the text without its line end.
      const text = (before.isSymbolicLink() ? fs.readlinkSync(file) : fs.readFileSync(file, 'utf8')).trim();
      const after = fs.lstatSync(file);
      // Replaced while being read: read it again, so that the text and the inode are one file's.
      if (after.ino === before.ino) return { text, ...parseLock(text), writtenAtMs: after.mtimeMs, ino: after.ino };
    }
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** A dead daemon's lock is removed, but only that one: never a lock another start just made. */
function takeOver(file: string, stale: LockRecord): void {
  removeIfSame(file, stale);
}

/** On release: our own lock only (removed by hand and taken by another daemon, it is theirs). */
function removeIfStill(file: string, text: string): void {
  try {
    const now = readLock(file);
    if (now?.text === text.trim()) removeIfSame(file, now);
  } catch {
    /* already gone, or the folder with it */
  }
}

/**
 * Removes the lock if it still is the one read. Moving it aside first makes this one step: two
 * starts that both judged a dead daemon's lock stale cannot remove each other's new lock. If the
 * one moved aside is another start's new lock (the text tells, as inode numbers are soon reused),
 * it is put back. (Only a third start in that very instant could slip in between.)
 */
function removeIfSame(file: string, read: LockRecord): void {
  const aside = `${file}.${process.pid}.old`;
  try {
    fs.renameSync(file, aside);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return; // another start took it over first
    throw err;
  }
  try {
    const moved = readLock(aside);
    if (moved && (moved.ino !== read.ino || moved.text !== read.text)) createOrExisting(() => fs.linkSync(aside, file));
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

// --- who holds it ----------------------------------------------------------------------------

/** A lock an older Errand wrote holds only a pid: its writer started before writing it (clock slack). */
const OLD_LOCK_SLACK_MS = 2000;

function isHeld(lock: LockRecord): boolean {
  if (!Number.isInteger(lock.pid) || lock.pid <= 0) return false; // unreadable: no daemon can be told to stop
  // A lock naming this very process is one an earlier process with the same pid left (a container's
  // pid 1 after a restart): it cannot be another daemon.
  if (lock.pid === process.pid) return false;
  const boot = bootId();
  if (lock.boot && boot && lock.boot !== boot) return false; // written before a reboot
  if (!exists(lock.pid)) return false;
  const facts = processFacts(lock.pid);
  if (!facts) return true; // nothing more to go by here: a live pid is taken as the daemon
  if (facts.state.startsWith('Z') || facts.state.startsWith('X')) return false; // dead, not yet reaped
  if (lock.start) return facts.start === undefined || facts.start === lock.start;
  // A process started after the lock was written only reuses its writer's pid.
  return facts.startedAtMs === undefined || facts.startedAtMs <= lock.writtenAtMs + OLD_LOCK_SLACK_MS;
}

function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM'; // another user's process
  }
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
function processFacts(pid: number): ProcessFacts | undefined {
  return HAS_PROC ? factsFromProc(pid) : factsFromPs(pid);
}

let own: ProcessFacts | undefined;
function ownFacts(): ProcessFacts | undefined {
  own ??= processFacts(process.pid);
  return own;
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

let boot: string | null | undefined;
/** This boot of the machine (Linux); a lock from an earlier boot is stale whatever its pid is now. */
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

function isDiskFull(err: unknown): boolean {
  return ['ENOSPC', 'EDQUOT'].includes(errorCode(err));
}

function errorCode(err: unknown): string {
  return String((err as NodeJS.ErrnoException)?.code ?? '');
}
