// Put something back at a path without following any link on the way (undo and trash restore).
// The path was recorded as a real path, so every folder on it must be a real folder now. On Linux
// the folders are opened one by one without following links and the final write goes through the
// opened folder itself (/proc/self/fd/N/name): a folder swapped for a link between the check and
// the write cannot redirect it. Elsewhere the folder is checked before and after the write.
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from './util.js';

/** Throws a ToolError when `target` may not be written now (the roots check). */
export type PlaceCheck = (target: string) => Promise<void>;

const PROC_FD = '/proc/self/fd';
const hasProcFd = (() => {
  try {
    return process.platform === 'linux' && fs.statSync(PROC_FD).isDirectory();
  } catch {
    return false;
  }
})();

const LINK_REFUSAL = 'a folder on its path was replaced by a link since the task; left as it is';

/** Open `dir` folder by folder without following links, creating missing folders. */
async function openFolderNoFollow(dir: string): Promise<FileHandle> {
  const parts = dir.split(path.sep).filter(Boolean);
  let handle = await fsp.open(path.parse(dir).root || '/', fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    for (const part of parts) {
      const inside = `${PROC_FD}/${handle.fd}/${part}`;
      const flags = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW;
      let next: FileHandle;
      try {
        next = await fsp.open(inside, flags);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ELOOP' || code === 'ENOTDIR') throw new ToolError(LINK_REFUSAL);
        if (code !== 'ENOENT') throw err;
        await fsp.mkdir(inside, 0o755).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'EEXIST') throw e;
        });
        try {
          next = await fsp.open(inside, flags);
        } catch (e) {
          const c = (e as NodeJS.ErrnoException).code;
          if (c === 'ELOOP' || c === 'ENOTDIR') throw new ToolError(LINK_REFUSAL);
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

/** Without /proc: the folder must be itself (no link) before and after the write. */
async function checkFolderIsItself(dir: string): Promise<fs.Stats> {
  const real = await fsp.realpath(dir).catch(() => '');
  if (real !== dir) throw new ToolError(LINK_REFUSAL);
  return fsp.lstat(dir);
}

/**
 * Run `write(destination)` where destination names `target` through a folder reached without
 * following links, after `check` confirmed target may be written (roots, state folder).
 */
export async function placeContained(
  target: string,
  check: PlaceCheck,
  write: (destination: string) => Promise<void>,
): Promise<void> {
  if (!path.isAbsolute(target) || path.normalize(target) !== target) throw new ToolError(`Bad path ${target}.`);
  await check(target);
  const dir = path.dirname(target);
  const name = path.basename(target);
  if (hasProcFd) {
    const folder = await openFolderNoFollow(dir);
    try {
      await write(`${PROC_FD}/${folder.fd}/${name}`);
    } finally {
      await folder.close();
    }
    return;
  }
  await fsp.mkdir(dir, { recursive: true });
  const before = await checkFolderIsItself(dir);
  await write(target);
  const after = await checkFolderIsItself(dir).catch(() => undefined);
  if (!after || after.ino !== before.ino || after.dev !== before.dev) throw new ToolError(LINK_REFUSAL);
}
