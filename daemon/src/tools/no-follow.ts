// Reach a real path without following any link on the way, so containment holds at the moment of
// the open and not only at the moment of the check. The tools resolve a path to its real path and
// check it is inside the roots; a folder on that path can be swapped for a link to outside right
// after. On Linux every folder is opened one by one with O_NOFOLLOW, and the final open, write or
// rename goes through the opened folder itself (/proc/self/fd/N/name): a swapped folder makes the
// walk fail instead of leading outside. Elsewhere the folder is checked before and after.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir } from '../util/durable-file.js';
import { noteTemp, tempDone } from './temp-ledger.js';
import { fmt, ToolError } from './util.js';

const PROC_FD = '/proc/self/fd';
export const hasProcFd = (() => {
  try {
    return process.platform === 'linux' && fs.statSync(PROC_FD).isDirectory();
  } catch {
    return false;
  }
})();

const DIR_FLAGS = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW;

export interface FolderOptions {
  /** Create missing folders (each one reported to onCreate, parents first). */
  create?: boolean;
  onCreate?: (dir: string) => Promise<void>;
  /** The refusal when a folder on the way is a link (default: says the path changed). */
  refusal?: string;
}

const linkRefusal = (dir: string, opts: FolderOptions) =>
  new ToolError(
    opts.refusal ?? `${dir} changed while Errand was using it (a folder on its path is now a link); nothing was done.`,
  );

/** The folder handle's own path: names under it are looked up in that very folder. */
export const fdPath = (h: FileHandle, name?: string): string =>
  name === undefined ? `${PROC_FD}/${h.fd}` : `${PROC_FD}/${h.fd}/${name}`;

/** Open the real folder `dir` folder by folder without following links. */
export async function openFolderNoFollow(dir: string, opts: FolderOptions = {}): Promise<FileHandle> {
  if (!path.isAbsolute(dir) || path.normalize(dir) !== dir) throw new ToolError(`Bad path ${dir}.`);
  const parts = dir.split(path.sep).filter(Boolean);
  let handle = await fsp.open(path.parse(dir).root || '/', fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  let sofar = path.parse(dir).root || '/';
  try {
    for (const part of parts) {
      sofar = path.join(sofar, part);
      const inside = fdPath(handle, part);
      let next: FileHandle;
      try {
        next = await fsp.open(inside, DIR_FLAGS);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ELOOP' || code === 'ENOTDIR') throw linkRefusal(dir, opts);
        if (code !== 'ENOENT') throw err;
        if (!opts.create) throw new ToolError(`${sofar} does not exist (any more); nothing was done.`);
        let made = true;
        await fsp.mkdir(inside, 0o777).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'EEXIST') throw e;
          made = false;
        });
        if (made) await opts.onCreate?.(sofar);
        try {
          next = await fsp.open(inside, DIR_FLAGS);
        } catch (e) {
          const c = (e as NodeJS.ErrnoException).code;
          if (c === 'ELOOP' || c === 'ENOTDIR') throw linkRefusal(dir, opts);
          throw e;
        }
      }
      await handle.close();
      handle = next;
    }
    return handle;
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
}

/** Without /proc: the folder must be itself (no link) before and after. */
async function folderIsItself(dir: string, opts: FolderOptions): Promise<fs.Stats> {
  const real = await fsp.realpath(dir).catch(() => '');
  if (real !== dir) throw linkRefusal(dir, opts);
  return fsp.lstat(dir);
}

/**
 * Run `fn(folder)` where `folder` names the real folder `dir` reached without following links:
 * `${folder}/${name}` opens, creates or renames inside that folder and nowhere else.
 */
export async function inFolder<T>(dir: string, opts: FolderOptions, fn: (folder: string) => Promise<T>): Promise<T> {
  if (hasProcFd) {
    const h = await openFolderNoFollow(dir, opts);
    try {
      return await fn(fdPath(h));
    } finally {
      await h.close();
    }
  }
  if (opts.create) {
    const missing: string[] = [];
    for (let d = dir; !(await fsp.lstat(d).catch(() => undefined)); d = path.dirname(d)) missing.unshift(d);
    for (const d of missing) {
      await fsp.mkdir(d);
      await opts.onCreate?.(d);
    }
  }
  const before = await folderIsItself(dir, opts);
  const out = await fn(dir);
  const after = await folderIsItself(dir, opts).catch(() => undefined);
  if (!after || after.ino !== before.ino || after.dev !== before.dev) throw linkRefusal(dir, opts);
  return out;
}

/** Open the real path `file` for reading without following a link anywhere on it. */
export async function openNoFollow(file: string, opts: FolderOptions = {}): Promise<FileHandle> {
  const flags = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
  const name = path.basename(file);
  if (!name) return fsp.open(file, fs.constants.O_RDONLY);
  try {
    return await inFolder(path.dirname(file), opts, (folder) => fsp.open(`${folder}/${name}`, flags));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw linkRefusal(file, opts);
    throw err;
  }
}

/** Files up to this size are read in one blocking call (from the page cache: well under a millisecond). */
const SYNC_READ_MAX = 256 * 1024;

/**
 * `openFolderNoFollow`, blocking (Linux): each step is one lookup in a folder (microseconds), where
 * each asynchronous step costs a trip through the thread pool. Returns the folder's descriptor.
 */
function openFolderNoFollowSync(dir: string, opts: FolderOptions): number {
  if (!path.isAbsolute(dir) || path.normalize(dir) !== dir) throw new ToolError(`Bad path ${dir}.`);
  let sofar = path.parse(dir).root || '/';
  let fd = fs.openSync(sofar, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    for (const part of dir.split(path.sep).filter(Boolean)) {
      sofar = path.join(sofar, part);
      let next: number;
      try {
        next = fs.openSync(`${PROC_FD}/${fd}/${part}`, DIR_FLAGS);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ELOOP' || code === 'ENOTDIR') throw linkRefusal(dir, opts);
        if (code === 'ENOENT') throw new ToolError(`${sofar} does not exist (any more); nothing was done.`);
        throw err;
      }
      fs.closeSync(fd);
      fd = next;
    }
    return fd;
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/**
 * Read the real path `file`, a regular file with one link, without following a link anywhere on
 * it: what is read is that very path or nothing, whatever was swapped since it was checked. A file
 * over `max` bytes is refused, also one that grows past it while it is read.
 */
export async function readFileNoFollow(
  file: string,
  max: number,
  opts: FolderOptions = {},
): Promise<{ data: Buffer; stat: fs.Stats }> {
  const name = path.basename(file);
  let fd: number;
  if (hasProcFd && name) {
    const dir = openFolderNoFollowSync(path.dirname(file), opts);
    try {
      fd = fs.openSync(
        `${PROC_FD}/${dir}/${name}`,
        fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK,
      );
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw linkRefusal(file, opts);
      throw err;
    } finally {
      fs.closeSync(dir);
    }
  } else {
    const h = await openNoFollow(file, opts);
    fd = h.fd;
    try {
      return await readFd(fd, file, max);
    } finally {
      await h.close();
    }
  }
  try {
    return await readFd(fd, file, max);
  } finally {
    fs.closeSync(fd);
  }
}

/** What a file grew by since its fstat is read in steps of this many bytes. */
const READ_STEP = 512 * 1024;

const tooLarge = (file: string, max: number) =>
  new ToolError(`${file} is larger than ${fmt(max)} bytes, the most Errand reads here; nothing was read.`);

async function readFd(fd: number, file: string, max: number): Promise<{ data: Buffer; stat: fs.Stats }> {
  const stat = fs.fstatSync(fd);
  if (!stat.isFile()) throw new ToolError(`${file} is not a regular file.`);
  if (stat.nlink > 1) throw new ToolError(`${file} has other hard links; Errand will not use it.`);
  if (stat.size > max) throw tooLarge(file, max);
  // Read to the end, whatever the size was at the fstat: the file may grow meanwhile. First the size
  // the fstat gave (into a buffer of exactly that size), then one byte to see whether it grew, then
  // what it grew by; one byte past `max` is enough to know it is too large.
  const parts: Buffer[] = [];
  let total = 0;
  for (let want = stat.size || 1; ; want = total === stat.size ? 1 : READ_STEP) {
    // Not from the shared pool: a reader may hand the bytes' own ArrayBuffer to a parser.
    const buf = Buffer.allocUnsafeSlow(Math.min(want, max + 1 - total));
    const n =
      total + buf.length <= SYNC_READ_MAX + 1
        ? fs.readSync(fd, buf, 0, buf.length, total)
        : await new Promise<number>((resolve, reject) =>
            fs.read(fd, buf, 0, buf.length, total, (err, bytes) => (err ? reject(err) : resolve(bytes))),
          );
    if (n === 0) break; // the end of the file
    parts.push(n === buf.length ? buf : buf.subarray(0, n));
    total += n;
    if (total > max) throw tooLarge(file, max);
  }
  return { data: parts.length === 1 ? parts[0] : Buffer.concat(parts, total), stat };
}

const removed = (file: string): Promise<boolean> =>
  fsp.rm(file, { force: true }).then(
    () => true,
    () => false,
  );

/** Write `name` in an opened folder durably: temp file beside it, fsync, rename over, fsync the folder. */
export async function writeAtomicIn(folder: string, name: string, data: Buffer, mode?: number): Promise<void> {
  const tmpName = `.errand-${crypto.randomBytes(6).toString('hex')}.tmp`;
  const tmp = `${folder}/${tmpName}`;
  // Noted first, so a crash before the rename does not leave it in the user's folder for good.
  const noted = noteTemp(folder, tmpName);
  let left = false; // a temp file is in the folder
  try {
    const h = await fsp.open(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, mode ?? 0o644);
    left = true;
    try {
      await h.writeFile(data);
      if (mode !== undefined) await h.chmod(mode);
      await h.sync();
    } finally {
      await h.close();
    }
    await fsp.rename(tmp, `${folder}/${name}`);
    left = false;
  } catch (err) {
    // Whatever failed (a full disk fails the write or the sync), the temp file goes with it.
    if (left) left = !(await removed(tmp));
    throw err;
  } finally {
    // One that could not be removed stays noted: the next start removes it.
    if (noted && !left) tempDone();
  }
  await fsyncDir(folder);
}
