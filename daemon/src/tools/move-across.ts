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
  await copyNoFollow(from, to);
  await removeNoFollow(from);
}

async function copyNoFollow(from: string, to: string): Promise<void> {
  const st = await fsp.lstat(from);
  if (st.isSymbolicLink()) {
    await fsp.symlink(await fsp.readlink(from), to);
    return;
  }
  if (st.isFile()) {
    const h = await fsp.open(from, FILE_FLAGS);
    try {
      const opened = await h.stat();
      if (!opened.isFile()) throw new ToolError(`${from} changed while it was being moved; nothing was moved.`);
      // The opened file itself is copied (through its descriptor on Linux, by the kernel).
      if (hasProcFd) await fsp.copyFile(viaFd(h.fd), to, fs.constants.COPYFILE_EXCL);
      else await fsp.writeFile(to, await h.readFile(), { flag: 'wx' });
      const out = await fsp.open(to, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW);
      try {
        await out.chmod(st.mode & 0o7777);
        await out.sync();
      } finally {
        await out.close();
      }
      await fsp.utimes(to, st.atime, st.mtime);
    } finally {
      await h.close();
    }
    return;
  }
  if (!st.isDirectory()) throw new ToolError(`${from} is not a file or folder; nothing was moved.`);
  const source = await fsp.open(from, DIR_FLAGS).catch(() => {
    throw new ToolError(`${from} changed while it was being moved (a folder is now a link); nothing was moved.`);
  });
  try {
    await fsp.mkdir(to, { mode: st.mode & 0o7777 });
    const target = await fsp.open(to, DIR_FLAGS);
    try {
      for (const name of await fsp.readdir(viaFd(source.fd)))
        await copyNoFollow(`${viaFd(source.fd)}/${name}`, `${viaFd(target.fd)}/${name}`);
      await target.sync();
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

/** Remove a file, link or folder tree; links are removed, never followed. */
export async function removeNoFollow(at: string): Promise<void> {
  const st = await fsp.lstat(at);
  if (!st.isDirectory()) {
    await fsp.unlink(at);
    return;
  }
  const dir = await fsp.open(at, DIR_FLAGS).catch(() => {
    throw new ToolError(`${at} changed while it was being removed (a folder is now a link); the rest was left.`);
  });
  try {
    for (const name of await fsp.readdir(viaFd(dir.fd))) await removeNoFollow(`${viaFd(dir.fd)}/${name}`);
  } finally {
    await dir.close();
  }
  // rmdir of a name that became a link fails (ENOTDIR): never the target.
  await fsp.rmdir(at);
}
