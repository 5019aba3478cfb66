// Moving a file or folder, also between disks, without following a link anywhere. A rename is one
// system call that never follows the last name. Between disks it becomes a copy and a removal, and
// both walk the tree: each folder is opened with O_NOFOLLOW and its entries are reached through
// that opened folder (/proc/self/fd/N/name). A folder swapped for a link while the walk runs makes
// the open fail instead of leading outside, so nothing outside is copied in or removed.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { hasProcFd } from './no-follow.js';
import { ToolError } from './util.js';

const DIR_FLAGS = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW;
const FILE_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

/** An opened folder's path, through which its entries are reached without following links. */
const viaFd = (fd: number) => `/proc/self/fd/${fd}`;

/**
 * rename `from` to `to` (both names whose folders were reached without following links), or copy
 * and remove across file systems. `to` must not exist.
 */
export async function moveAcross(from: string, to: string): Promise<void> {
  try {
    await fsp.rename(from, to);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
  }
  if (!hasProcFd) {
    const st = await fsp.lstat(from);
    if (!st.isFile())
      throw new ToolError(`${from} is on another disk than ${to}; Errand moves folders only within one disk.`);
  }
  // What was copied, by identity: the removal takes only those, so nothing that appeared in the
  // source meanwhile is removed without a copy.
  const copied = new Set<string>();
  try {
    await copyNoFollow(from, to, copied);
  } catch (err) {
    // Half a copy helps nobody: the source is still whole, so the copy goes.
    await removeNoFollow(to).catch(() => undefined);
    throw err;
  }
  const left = await removeTree(from, copied);
  if (left)
    throw new ToolError(
      `${from} was copied to ${to}, but ${left} ${left === 1 ? 'entry' : 'entries'} appeared in it meanwhile and ${left === 1 ? 'was' : 'were'} left where ${left === 1 ? 'it was' : 'they were'}.`,
    );
}

const identity = (st: fs.Stats) => `${st.dev}:${st.ino}`;

async function copyNoFollow(from: string, to: string, copied: Set<string>): Promise<void> {
  const st = await fsp.lstat(from);
  if (st.isSymbolicLink()) {
    await fsp.symlink(await fsp.readlink(from), to);
    copied.add(identity(st));
    return;
  }
  if (st.isFile()) {
    const h = await fsp.open(from, FILE_FLAGS);
    try {
      const opened = await h.stat();
      if (!opened.isFile()) throw new ToolError(`${from} changed while it was being moved; nothing was moved.`);
      const out = await fsp.open(to, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
      try {
        // The opened file itself is copied (through its descriptor on Linux, by the kernel).
        if (hasProcFd) await fsp.copyFile(viaFd(h.fd), viaFd(out.fd));
        else await out.writeFile(await h.readFile());
        // Its mode through the descriptor, last: a read-only file is still written.
        await out.chmod(opened.mode & 0o7777);
        await out.utimes(opened.atime, opened.mtime);
        await out.sync();
      } finally {
        await out.close();
      }
      copied.add(identity(opened));
    } finally {
      await h.close();
    }
    return;
  }
  if (!st.isDirectory()) throw new ToolError(`${from} is not a file, folder or link; nothing was moved.`);
  const source = await fsp.open(from, DIR_FLAGS).catch(() => {
    throw new ToolError(`${from} changed while it was being moved (a folder is now a link); nothing was moved.`);
  });
  try {
    // Made writable for the copy; its own mode once its entries are in (a read-only folder too).
    await fsp.mkdir(to, { mode: 0o700 });
    const target = await fsp.open(to, DIR_FLAGS);
    try {
      for (const name of await fsp.readdir(viaFd(source.fd)))
        await copyNoFollow(`${viaFd(source.fd)}/${name}`, `${viaFd(target.fd)}/${name}`, copied);
      const opened = await source.stat();
      await target.chmod(opened.mode & 0o7777);
      await target.sync();
      copied.add(identity(opened));
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

/**
 * Remove a file, link or folder tree (links removed, never followed). With `copied`, only entries
 * copied (by identity) go; returns how many were left.
 */
async function removeTree(at: string, copied?: Set<string>): Promise<number> {
  const st = await fsp.lstat(at);
  if (copied && !copied.has(identity(st))) return 1;
  if (!st.isDirectory()) {
    await fsp.unlink(at);
    return 0;
  }
  const dir = await fsp.open(at, DIR_FLAGS).catch(() => {
    throw new ToolError(`${at} changed while it was being removed (a folder is now a link); the rest was left.`);
  });
  let left = 0;
  try {
    // A read-only folder: writable for the removal of its entries.
    if (!(st.mode & 0o200)) await dir.chmod((st.mode & 0o7777) | 0o700);
    for (const name of await fsp.readdir(viaFd(dir.fd))) left += await removeTree(`${viaFd(dir.fd)}/${name}`, copied);
  } finally {
    await dir.close();
  }
  // rmdir of a name that became a link fails (ENOTDIR): never the target.
  if (!left) await fsp.rmdir(at);
  return left;
}

/** Remove a file, link or folder tree; links are removed, never followed. */
export async function removeNoFollow(at: string): Promise<void> {
  await removeTree(at);
}
