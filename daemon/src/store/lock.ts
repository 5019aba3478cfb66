// One daemon per home folder: an exclusive lock file naming the daemon that holds it.
//
// A pid alone does not say who holds the lock: after a reboot, a power cut or kill -9 the pid is
// often reused by an unrelated process (or the dead daemon is a zombie not yet reaped), and a lock
// judged by the pid alone then blocks every start for good. So the lock says which process wrote
// it: "<pid> <start time> <boot id>", the start time as the system counts it (clock ticks since
// boot in /proc/<pid>/stat, or the start second `ps` gives where there is no /proc). It is held
// only while a live process matches all of them. The pid comes first, so an older Errand still
// reads it; a lock an older Errand wrote (a pid only) is judged by when it was written.
//
// A dead daemon's lock is taken over by one start at a time (see takeOver): the lock is never moved
// or removed while a live daemon holds it, so no start killed at any point of a takeover can leave
// a running daemon without its lock for a third start to slip past.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bootId, type ProcessFacts, processExists, processFacts } from '../util/process-identity.js';

export class LockHeldError extends Error {
  readonly exitCode = 75; // EX_TEMPFAIL
  constructor(
    readonly pid: number,
    file: string,
    /** The other daemon is starting: it is taking over the lock a daemon that ended left. */
    starting = false,
  ) {
    super(
      `Another Errand daemon (process ${pid}) is ${starting ? 'starting' : 'already running'} with this home folder (lock ${file}). Stop it first, or set ERRAND_HOME to use another folder.`,
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
  clearLeftovers(file);
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

/** The pid holding the lock, if a live daemon does (or a live start is taking over a dead one's). */
export function lockHolder(file: string): number | undefined {
  const state = inspectLock(file);
  if (state.kind === 'held') return state.pid;
  return takeoverMarkers(file).find(isHeld)?.pid;
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

/** On release: our own lock only (removed by hand and taken by another daemon, it is theirs). */
function removeIfStill(file: string, text: string): void {
  try {
    if (readLock(file)?.text === text.trim()) fs.rmSync(file, { force: true });
  } catch {
    /* already gone, or the folder with it */
  }
}

// --- taking over a dead daemon's lock --------------------------------------------------------
//
// Moving a lock aside to remove it "only if it is still the stale one" leaves a window in which a
// racing start holds another start's fresh lock under another name: killed there, it took that
// lock with it. So a takeover is exclusive instead. Each taker marks itself with a file of its own
// (`daemon.lock.takeover.<pid>_<start>_<boot>_<random>`), then looks for other live takers; only a
// start that saw none removes the stale lock. Of two starts, the later to look always sees the
// other's mark, so never both go on. A dead taker's mark is judged by the same facts as a lock,
// and removing it is safe: its name is its own, so no other start's mark can be there instead.

/** How long the taker whose mark sorts first waits for others that marked in the same instant to back off. */
const TAKEOVER_WAIT_MS = 1000;
const TAKEOVER_PAUSE_MS = 5;

/** A dead daemon's lock is removed, but only that one: never a lock another start just made. */
function takeOver(file: string, stale: LockRecord): void {
  const mark = markTakeover(file);
  try {
    const now = readLock(file);
    // Under the takeover no other start removes the lock, and none can create one while it is there.
    if (now && now.ino === stale.ino && now.text === stale.text) fs.rmSync(file, { force: true });
  } finally {
    fs.rmSync(mark, { force: true });
  }
}

/** Mark this start as the taker, once no other live start is taking over; the mark's path. */
function markTakeover(file: string): string {
  const facts = ownFacts();
  const id = [process.pid, facts?.start ?? '-', bootId() ?? '-', randomBytes(4).toString('hex')].join('_');
  const mark = `${file}${TAKEOVER_INFIX}${id}`;
  fs.closeSync(fs.openSync(mark, 'wx', 0o600));
  try {
    waitUntilSoleTaker(file, mark);
    return mark;
  } catch (err) {
    fs.rmSync(mark, { force: true });
    throw err;
  }
}

/** Returns when no other live start is taking over; throws LockHeldError naming one that is. */
function waitUntilSoleTaker(file: string, mark: string): void {
  const deadline = Date.now() + TAKEOVER_WAIT_MS;
  for (;;) {
    const others = takeoverMarkers(file).filter((m) => m.path !== mark && !removedIfDead(m));
    if (others.length === 0) return;
    // Two that marked at once see each other: the first by name waits, the other backs off. Waiting
    // is bounded, as one that is part-way through its takeover (or stopped) may hold on longer.
    const first = others.reduce((a, b) => (b.path < a.path ? b : a));
    if (first.path < mark || Date.now() >= deadline) throw new LockHeldError(first.pid, file, true);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, TAKEOVER_PAUSE_MS);
  }
}

const TAKEOVER_INFIX = '.takeover.';

interface TakeoverMark extends LockRecord {
  path: string;
}

/** The takeover marks next to the lock, with the facts their names give (as a lock's text does). */
function takeoverMarkers(file: string): TakeoverMark[] {
  const prefix = path.basename(file) + TAKEOVER_INFIX;
  const marks: TakeoverMark[] = [];
  for (const name of siblings(file)) {
    if (!name.startsWith(prefix)) continue;
    const markPath = path.join(path.dirname(file), name);
    const stat = fs.lstatSync(markPath, { throwIfNoEntry: false });
    if (!stat) continue; // its taker is done
    const text = name.slice(prefix.length).split('_').slice(0, 3).join(' ');
    marks.push({ path: markPath, text, ...parseLock(text), writtenAtMs: stat.mtimeMs, ino: stat.ino });
  }
  return marks;
}

function removedIfDead(mark: TakeoverMark): boolean {
  if (isHeld(mark)) return false;
  fs.rmSync(mark.path, { force: true });
  return true;
}

/** The names in the lock's folder. */
function siblings(file: string): string[] {
  try {
    return fs.readdirSync(path.dirname(file));
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/**
 * What starts killed part-way left next to the lock: a takeover mark, a lock not yet linked to its
 * name (`daemon.lock.<pid>.tmp`), or a lock an older Errand moved aside to take over
 * (`daemon.lock.<pid>.old`). That last one may be a running daemon's: it is put back, so this start
 * is refused rather than run beside it.
 */
function clearLeftovers(file: string): void {
  for (const mark of takeoverMarkers(file)) removedIfDead(mark);
  const prefix = `${path.basename(file)}.`;
  for (const name of siblings(file)) {
    const match = name.startsWith(prefix) ? /^(\d+)\.(tmp|old)$/.exec(name.slice(prefix.length)) : null;
    if (!match || !writerGone(Number(match[1]))) continue; // a live start's, still in use
    const leftover = path.join(path.dirname(file), name);
    if (match[2] === 'old') putBackIfHeld(file, leftover);
    fs.rmSync(leftover, { force: true });
  }
}

function putBackIfHeld(file: string, aside: string): void {
  const moved = readLock(aside);
  if (!moved || !isHeld(moved)) return;
  // Its name taken by another lock meanwhile: keep it aside, and refuse while its daemon runs.
  if (!createOrExisting(() => fs.linkSync(aside, file))) throw new LockHeldError(moved.pid, file);
}

/** A leftover's writer ended (a file with this very pid is an earlier process's, as in isHeld). */
function writerGone(pid: number): boolean {
  return pid === process.pid || !processExists(pid);
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
  if (!processExists(lock.pid)) return false;
  const facts = processFacts(lock.pid);
  if (!facts) return true; // nothing more to go by here: a live pid is taken as the daemon
  if (facts.state.startsWith('Z') || facts.state.startsWith('X')) return false; // dead, not yet reaped
  if (lock.start) return facts.start === undefined || facts.start === lock.start;
  // A process started after the lock was written only reuses its writer's pid.
  return facts.startedAtMs === undefined || facts.startedAtMs <= lock.writtenAtMs + OLD_LOCK_SLACK_MS;
}

let own: ProcessFacts | undefined;
function ownFacts(): ProcessFacts | undefined {
  own ??= processFacts(process.pid);
  return own;
}

function isDiskFull(err: unknown): boolean {
  return ['ENOSPC', 'EDQUOT'].includes(errorCode(err));
}

function errorCode(err: unknown): string {
  return String((err as NodeJS.ErrnoException)?.code ?? '');
}
