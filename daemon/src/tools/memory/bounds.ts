// What the memory folder holds, and its bound as a whole (MAX_MEMORY_FILES files, MAX_MEMORY_TOTAL_BYTES
// in all). The per-file limit alone let one clean reply create 64 files of 100 KB each, unasked; the
// model's creates and the person's edits both stop at this bound, each checked and written under
// the folder's lock (withMemoryLock).
import fsp from 'node:fs/promises';
import path from 'node:path';
import { MAX_MEMORY_FILES, MAX_MEMORY_TOTAL_BYTES } from '../../../../shared/src/index.js';
import { stampOf } from './authors.js';

export interface MemoryFile {
  /** Segments under the memory folder. */
  segments: string[];
  real: string;
  bytes: number;
  modifiedAt: number;
  /** Its identity now, to compare with the one its author's record keeps (authors.ts). */
  stamp: string;
}

/** Every regular file under the memory folder (links are neither counted nor followed), unsorted. */
export async function memoryFiles(root: string): Promise<MemoryFile[]> {
  const out: MemoryFile[] = [];
  const walk = async (dir: string, rel: string[]) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fsp.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full, [...rel, e.name]);
      else if (e.isFile()) {
        const st = await fsp.lstat(full, { bigint: true }).catch(() => undefined);
        if (st?.isFile())
          out.push({
            segments: [...rel, e.name],
            real: full,
            bytes: Number(st.size),
            modifiedAt: Number(st.mtimeMs),
            stamp: stampOf(st),
          });
      }
    }
  };
  await walk(root, []);
  return out;
}

/**
 * Paths in one order on every machine: by code units. (A locale's collation would read ICU's data
 * into memory, megabytes an idle daemon then keeps, for names the model chose anyway.)
 */
export const byPath = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const n = (x: number) => x.toLocaleString('en');

/**
 * Why writing `bytes` to `real` would pass the bound, or undefined when it may. A change that makes
 * memory no larger is always allowed, so memory already over the bound (from before it existed) can
 * still be edited down.
 */
export async function memoryBoundBreach(root: string, real: string, bytes: number): Promise<string | undefined> {
  return memoryBreachFor(root, [{ real, bytes }]);
}

/**
 * The same for several files landing at once (an undo putting back a deleted folder): each replaces
 * the file at its path, if any. The number of files may not grow past the bound, nor the bytes.
 */
export async function memoryBreachFor(
  root: string,
  landing: Array<{ real: string; bytes: number }>,
): Promise<string | undefined> {
  const files = await memoryFiles(root);
  const byReal = new Map(files.map((f) => [f.real, f]));
  const added = landing.filter((l) => !byReal.has(l.real)).length;
  if (added && files.length + added > MAX_MEMORY_FILES)
    return added === 1
      ? `memory already holds ${n(files.length)} files; it holds at most ${n(MAX_MEMORY_FILES)}`
      : `memory holds ${n(files.length)} files and this would add ${n(added)}; it holds at most ${n(MAX_MEMORY_FILES)}`;
  const total = files.reduce((sum, f) => sum + f.bytes, 0);
  const after = landing.reduce((sum, l) => sum - (byReal.get(l.real)?.bytes ?? 0) + l.bytes, total);
  if (after > MAX_MEMORY_TOTAL_BYTES && after > total)
    return `memory would hold ${n(after)} bytes in all; it holds at most ${n(MAX_MEMORY_TOTAL_BYTES)}`;
  return undefined;
}

/** Per memory folder, the end of its queue of bounded writes (a promise that never rejects). */
const queues = new Map<string, Promise<unknown>>();

/**
 * Runs `checkAndWrite` (the look at the bound, then the write) after every earlier one on the same
 * memory folder has finished. Apart, parallel tasks and phone edits each saw room for one more note
 * and all wrote it: 16 tasks at once took memory from 499 files to 515 and 6.3 MB.
 */
export async function withMemoryLock<T>(root: string, checkAndWrite: () => Promise<T>): Promise<T> {
  const key = path.resolve(root);
  const run = (queues.get(key) ?? Promise.resolve()).then(checkAndWrite);
  const end = run.catch(() => undefined);
  queues.set(key, end);
  try {
    return await run;
  } finally {
    if (queues.get(key) === end) queues.delete(key);
  }
}
