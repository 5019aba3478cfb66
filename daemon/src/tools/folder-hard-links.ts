// The regular files with other hard links under some folders, found by a bounded walk that follows
// no symbolic link met inside a folder (grep -r and rg do not either, without -R / -L). A program
// that walks a folder reads every file in it, and another name of a hard-linked file may be outside
// the allowed folders: fs_read refuses such a file (roots.ts), so a wide grant must not cover a
// command that reads one. Asynchronous (fs.promises.opendir, lstat in small batches): a large
// folder does not hold the event loop.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { isInside } from './roots.js';

/** At most this many entries are looked at in all; past it the walk is incomplete. */
export const WALK_ENTRIES_MAX = 20_000;
/** The walk stops once it found this many hard-linked files: one already decides, the rest are for the approval. */
const KEEP_MAX = 20;
/** lstat calls in flight at once (the thread pool also serves fsyncs). */
const LSTAT_BATCH = 16;

export interface HardLinkedFile {
  path: string;
  /** How many names the file has. */
  links: number;
}

export interface HardLinksFound {
  /** Hard-linked regular files met, at most KEEP_MAX of them. */
  files: HardLinkedFile[];
  /** False when the walk stopped at its bound or a folder failed to list: what it did not see may hold one. */
  complete: boolean;
}

/** Errors that mean "nothing there to read" for the walk as for the walking program: not a gap. */
const GONE = new Set(['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM']);
const gone = (err: unknown) => GONE.has((err as NodeJS.ErrnoException).code ?? '');

/**
 * Walk `folders` (real, absolute paths), not entering symbolic links, nor anything `skip` says is
 * not to be looked at (Errand's own state, which the sandbox hides from the command).
 */
export async function hardLinkedUnder(
  folders: string[],
  skip: (p: string) => boolean,
  maxEntries = WALK_ENTRIES_MAX,
): Promise<HardLinksFound> {
  const files: HardLinkedFile[] = [];
  const pending = outermost(folders);
  let entries = 0;
  while (pending.length > 0) {
    const dir = pending.pop()!;
    const regular: string[] = [];
    try {
      for await (const entry of await fsp.opendir(dir, { bufferSize: 128 })) {
        if (++entries > maxEntries) return { files, complete: false };
        const full = path.join(dir, entry.name);
        if (skip(full)) continue;
        if (entry.isDirectory()) pending.push(full);
        else if (entry.isFile()) regular.push(full);
      }
    } catch (err) {
      if (!gone(err)) return { files, complete: false };
    }
    for (let i = 0; i < regular.length; i += LSTAT_BATCH) {
      const stats = await Promise.all(
        regular.slice(i, i + LSTAT_BATCH).map((f) => fsp.lstat(f).catch(() => undefined)),
      );
      stats.forEach((st, j) => {
        if (st?.isFile() && st.nlink > 1) files.push({ path: regular[i + j], links: st.nlink });
      });
      // Enough to decide and to show: what is left unseen changes neither.
      if (files.length >= KEEP_MAX) return { files: files.slice(0, KEEP_MAX), complete: true };
    }
  }
  return { files, complete: true };
}

/** The folders not inside another one of them: each is walked once. */
function outermost(folders: string[]): string[] {
  const sorted = [...new Set(folders)].sort();
  return sorted.filter((f, i) => !sorted.slice(0, i).some((g) => isInside(g, f)));
}
