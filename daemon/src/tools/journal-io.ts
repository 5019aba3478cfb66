// The file access the change journal stands on, shared with the file tools: a file read, streamed or
// hashed without following a link anywhere on its path, a durable write, and a look at what is at a
// path. Apart from the journal's records and undo, so every part of it reads the disk the same way.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { pipeline, Readable, Transform } from 'node:stream';
import { type FolderOptions, inFolder, openNoFollow, writeAtomicIn } from './no-follow.js';
import { ToolError } from './util.js';

/** How much of a file is read at a time to hash it: its whole size is never held. */
const HASH_CHUNK = 1024 * 1024;

/** Read a regular, singly linked file from an open handle (closing it); `file` names it in errors. */
async function readHandle(h: FileHandle, file: string): Promise<{ data: Buffer; stat: fs.Stats }> {
  try {
    const stat = await h.stat();
    if (!stat.isFile()) throw new ToolError(`${file} is not a regular file.`);
    if (stat.nlink > 1) throw new ToolError(`${file} has other hard links; Errand will not use it.`);
    return { data: await h.readFile(), stat };
  } finally {
    await h.close();
  }
}

/** Read a regular file (a real path) without following a link anywhere on its path. */
export async function readNoFollow(file: string): Promise<{ data: Buffer; stat: fs.Stats }> {
  return readHandle(await openNoFollow(file), file);
}

/**
 * Stream a regular, singly linked file (a real path), opened without following a link anywhere on
 * its path, never held whole: exactly the size it had when opened (an answer's Content-Length), or
 * an error if it shrank meanwhile. Destroying the stream closes the file.
 */
export async function streamNoFollow(
  file: string,
  /** Looks at the opened file first (its own reads, by position); throwing refuses it. */
  check?: (handle: FileHandle, size: number) => Promise<void>,
): Promise<{ stream: Readable; stat: fs.Stats }> {
  const handle = await openNoFollow(file);
  let stat: fs.Stats;
  try {
    stat = await handle.stat();
    if (!stat.isFile()) throw new ToolError(`${file} is not a regular file.`);
    if (stat.nlink > 1) throw new ToolError(`${file} has other hard links; Errand will not use it.`);
    await check?.(handle, stat.size);
  } catch (err) {
    await handle.close();
    throw err;
  }
  const size = stat.size;
  if (size === 0) {
    await handle.close();
    return { stream: Readable.from([]), stat };
  }
  let seen = 0;
  const exact = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      done(seen < size ? new Error(`${file} shrank while it was read.`) : null);
    },
  });
  // Errors and destruction travel both ways: the file is closed whichever side ends first.
  const stream = pipeline(handle.createReadStream({ start: 0, end: size - 1 }), exact, () => undefined);
  return { stream, stat };
}

/** Read `here`, a name in a folder already reached without following links (inParent). */
export async function readAt(here: string, file: string): Promise<{ data: Buffer; stat: fs.Stats }> {
  const flags = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
  return readHandle(await fsp.open(here, flags), file);
}

/** Write a file durably: temp file beside it, fsync, rename over, fsync the folder. */
export async function writeAtomic(file: string, data: Buffer, mode?: number): Promise<void> {
  await writeAtomicIn(path.dirname(file), path.basename(file), data, mode);
}

/** What is at `p` (a link itself, not followed), or undefined when nothing is. */
export async function exists(p: string): Promise<fs.Stats | undefined> {
  return fsp.lstat(p).catch(() => undefined);
}

/**
 * Run fn in the folder holding `target`, reached without following links (`opts` as inFolder's):
 * a folder swapped for a link since the check fails the call.
 */
export function inParent<T>(
  target: string,
  opts: FolderOptions,
  fn: (folder: string, name: string) => Promise<T>,
): Promise<T> {
  const name = path.basename(target);
  return inFolder(path.dirname(target), opts, (f) => fn(f, name));
}

/** The regular files under `item` (links neither followed nor counted), named as if at `target`. */
export async function filesIn(item: string, target: string): Promise<Array<{ real: string; bytes: number }>> {
  const st = await exists(item);
  if (st?.isFile()) return [{ real: target, bytes: st.size }];
  if (!st?.isDirectory()) return [];
  const out: Array<{ real: string; bytes: number }> = [];
  for (const name of await fsp.readdir(item))
    out.push(...(await filesIn(path.join(item, name), path.join(target, name))));
  return out;
}

/**
 * sha256 of the file at `file` now, streamed (a file of any size, in bounded memory), without
 * following a symbolic link anywhere on its path. Undefined when no regular file is there (gone, or a
 * folder or link now); a ToolError saying why when the one there cannot be compared.
 */
export async function fileSha(file: string): Promise<string | undefined> {
  let h: FileHandle;
  try {
    h = await openNoFollow(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ELOOP is refused as a ToolError by openNoFollow: a link where the file was.
    if (err instanceof ToolError || code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new ToolError(`${file} could not be opened to check it (${(err as Error).message})`);
  }
  try {
    const stat = await h.stat();
    if (!stat.isFile()) return undefined;
    // Another hard link is fine: this only compares a hash, and undo replaces or moves this one
    // name, never the content the other names share.
    const hash = crypto.createHash('sha256');
    const chunk = Buffer.allocUnsafe(Math.min(HASH_CHUNK, Math.max(stat.size, 1)));
    for (;;) {
      const { bytesRead } = await h.read(chunk, 0, chunk.length, null);
      if (!bytesRead) break;
      hash.update(chunk.subarray(0, bytesRead));
    }
    return hash.digest('hex');
  } catch (err) {
    if (err instanceof ToolError) throw err;
    throw new ToolError(`${file} could not be read to check it (${(err as Error).message})`);
  } finally {
    await h.close().catch(() => undefined);
  }
}
