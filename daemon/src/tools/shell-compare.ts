// What a shell run's before/after comparison reads, and how much of it. A kept file is reached
// folder by folder without following links: a folder the command swapped for a link (or removed)
// makes the files kept under it count as gone, never as found at the link's target. Hashing is
// bounded per file, in all, and by the task's cancel: a huge or sparse file (truncate -s 1T) costs
// a stat and is reported as not compared, not hours of reading. A file with other hard links is
// read like any other (restoring it replaces that one name, never the other links).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { hasProcFd } from './no-follow.js';

const PROC_FD = '/proc/self/fd';
const DIR_FLAGS = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW;
const FILE_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

/** An entry reached without following links: `at` names it through its opened folder. */
export interface Reached {
  at: string;
  close(): void;
}

/**
 * Reach the real path `file` without following a link anywhere on its folders. Undefined when a
 * folder on the way is gone, is no folder (a link, a file) or cannot be opened.
 */
export function reachNoFollow(file: string): Reached | undefined {
  const dir = path.dirname(file);
  const name = path.basename(file);
  if (!hasProcFd) {
    // Elsewhere: the folder must be its own real path (no link on the way).
    const real = (() => {
      try {
        return fs.realpathSync(dir);
      } catch {
        return undefined;
      }
    })();
    return real === dir ? { at: file, close: () => undefined } : undefined;
  }
  let fd: number;
  try {
    fd = fs.openSync(path.parse(dir).root || '/', fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch {
    return undefined;
  }
  // One lookup in a folder each (microseconds): blocking, where each asynchronous step is a thread-pool trip.
  for (const part of dir.split(path.sep).filter(Boolean)) {
    let next: number;
    try {
      next = fs.openSync(`${PROC_FD}/${fd}/${part}`, DIR_FLAGS);
    } catch {
      fs.closeSync(fd);
      return undefined;
    }
    fs.closeSync(fd);
    fd = next;
  }
  const folder = fd;
  return { at: `${PROC_FD}/${folder}/${name}`, close: () => fs.closeSync(folder) };
}

/** Files up to this size are read in one blocking call (from the page cache: well under a millisecond). */
const SYNC_READ_MAX = 256 * 1024;
const CHUNK = 1024 * 1024;

const readAsync = (fd: number, buf: Buffer, pos: number): Promise<number> =>
  new Promise((resolve, reject) => fs.read(fd, buf, 0, buf.length, pos, (err, n) => (err ? reject(err) : resolve(n))));

/**
 * Read the regular file open at `fd` (`size` bytes when opened) chunk by chunk until its end;
 * `each` returns false to stop (then false is returned).
 */
async function readChunks(fd: number, size: number, each: (chunk: Buffer) => boolean): Promise<boolean> {
  // One byte more than its size, so a file that grew since is read on (and counted) too.
  const buf = Buffer.allocUnsafe(Math.min(size + 1, CHUNK));
  for (let pos = 0; ; ) {
    const sync = size < SYNC_READ_MAX && pos <= size;
    const n = sync ? fs.readSync(fd, buf, 0, buf.length, pos) : await readAsync(fd, buf, pos);
    if (!n) return true;
    pos += n;
    if (!each(buf.subarray(0, n))) return false;
  }
}

/** Open `at` as a regular file, not through a link at its last name. */
function openRegular(at: string): { fd: number; stat: fs.Stats } | undefined {
  let fd: number;
  try {
    fd = fs.openSync(at, FILE_FLAGS);
  } catch {
    return undefined;
  }
  const stat = fs.fstatSync(fd);
  if (stat.isFile()) return { fd, stat };
  fs.closeSync(fd);
  return undefined;
}

/**
 * The content of the regular file at `at` (however many links it has), if it holds at most `max`
 * bytes; 'too large' if more; undefined if it is no regular file or cannot be read.
 */
export async function readRegular(
  at: string,
  max: number,
): Promise<{ data: Buffer; stat: fs.Stats } | 'too large' | undefined> {
  const open = openRegular(at);
  if (!open) return undefined;
  try {
    if (open.stat.size > max) return 'too large';
    const parts: Buffer[] = [];
    let length = 0;
    const whole = await readChunks(open.fd, open.stat.size, (chunk) => {
      length += chunk.length;
      parts.push(Buffer.from(chunk));
      return length <= max;
    });
    return whole ? { data: Buffer.concat(parts, length), stat: open.stat } : 'too large';
  } catch {
    return undefined;
  } finally {
    fs.closeSync(open.fd);
  }
}

/** Why a changed file was not hashed, so its change could not be recorded. */
export type LeftReason = 'too large' | 'over budget' | 'cancelled';

export interface HashBounds {
  /** Bytes of one file, at most. */
  perFile: number;
  /** Bytes of all files, at most. */
  total: number;
  /** The task's cancel: past it only `afterCancel` more bytes are read. */
  signal?: AbortSignal;
  /** Enough for the small files a cancelled command changed; not a huge one. */
  afterCancel: number;
}

/** How much one comparison may still hash. */
export class HashBudget {
  private spent = 0;
  private cancelCap?: number;

  constructor(readonly bounds: HashBounds) {}

  /** Why `more` bytes (of one file already `soFar` bytes into) are not to be read, if they are not. */
  refuse(more: number, soFar = 0): LeftReason | undefined {
    if (soFar + more > this.bounds.perFile) return 'too large';
    if (this.bounds.signal?.aborted) this.cancelCap ??= this.spent + this.bounds.afterCancel;
    if (this.cancelCap !== undefined && this.spent + more > this.cancelCap) return 'cancelled';
    if (this.spent + more > this.bounds.total) return 'over budget';
    return undefined;
  }

  take(n: number): void {
    this.spent += n;
  }
}

export type Hashed = { sha: string; mode: number } | { left: LeftReason };

/**
 * sha256 and mode of the regular file at `at` (however many links it has), read within `budget`;
 * undefined if it is no regular file (or a link) or cannot be read.
 */
export async function hashRegular(at: string, budget: HashBudget): Promise<Hashed | undefined> {
  const open = openRegular(at);
  if (!open) return undefined;
  try {
    const mode = open.stat.mode & 0o7777;
    // Refused from its size alone, before a byte is read: a sparse terabyte costs this stat.
    const refused = budget.refuse(open.stat.size);
    if (refused) return { left: refused };
    const hash = crypto.createHash('sha256');
    let read = 0;
    let stopped: LeftReason | undefined;
    await readChunks(open.fd, open.stat.size, (chunk) => {
      stopped = budget.refuse(chunk.length, read);
      if (stopped) return false;
      budget.take(chunk.length);
      read += chunk.length;
      hash.update(chunk);
      return true;
    });
    return stopped ? { left: stopped } : { sha: hash.digest('hex'), mode };
  } catch {
    return undefined;
  } finally {
    fs.closeSync(open.fd);
  }
}
