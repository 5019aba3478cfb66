// The one way Errand replaces a file durably: write a temp file beside it, fdatasync it, rename it
// over the target, fsync the folder. After a crash there is the old file or the new one, never a mix.
// (The store's lowdb documents, the journal's snapshots, blobs, connector pins and secrets, the
// push keys, config.json and the service unit files all go through here.)
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

/** Codes a folder fsync gives where the file system does not support it: nothing more can be done there. */
const UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR', 'EBADF']);

/** Make a rename or a new name in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    if (!UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await handle.close();
  }
}

export function fsyncDirSync(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } catch (err) {
    if (!UNSUPPORTED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    fs.closeSync(fd);
  }
}

/** A temp name beside `file`, unique even for concurrent writes of the same file; ends in `.tmp` so start-up removes leftovers. */
function tempNameFor(file: string): string {
  return path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}-${crypto.randomBytes(4).toString('hex')}.tmp`,
  );
}

/** Write chunks in batches of about a megabyte (one writev each), every byte of each. */
async function writeChunks(handle: fsp.FileHandle, data: AsyncIterable<Uint8Array>): Promise<void> {
  let batch: Uint8Array[] = [];
  let bytes = 0;
  const flush = async () => {
    const all = batch.length === 1 ? batch[0] : Buffer.concat(batch, bytes);
    batch = [];
    bytes = 0;
    for (let off = 0; off < all.length; ) {
      const { bytesWritten } = await handle.write(all, off, all.length - off);
      off += bytesWritten;
    }
  };
  for await (const chunk of data) {
    batch.push(chunk);
    bytes += chunk.length;
    if (bytes >= 1024 * 1024) await flush();
  }
  if (bytes) await flush();
}

/**
 * Replace `file` durably with `data` (created with `mode`, 0600 by default). With `keepBackup`, the
 * previous version stays as `<file>.bak` (a hard link, so it costs no copy).
 */
export async function writeFileDurably(
  file: string,
  data: string | Uint8Array | AsyncIterable<Uint8Array>,
  keepBackup = true,
  mode = 0o600,
): Promise<void> {
  const dir = path.dirname(file);
  const tmp = tempNameFor(file);
  const handle = await fsp.open(tmp, 'wx', mode);
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) await handle.writeFile(data);
    else await writeChunks(handle, data);
    await handle.chmod(mode); // the umask may have narrowed it
    // fdatasync: the data and the size; the rename and the folder's fsync make the name durable.
    await handle.datasync();
  } catch (err) {
    await handle.close();
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  if (keepBackup) {
    // Keep the previous generation: link the current file to .bak (atomic replace via rename).
    const bakTmp = `${file}.bak.tmp`;
    try {
      await fsp.rm(bakTmp, { force: true });
      await fsp.link(file, bakTmp);
      await fsp.rename(bakTmp, `${file}.bak`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  try {
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

/** The same, synchronously, for the CLI's short-lived edits (config.json, service units). */
export function writeFileDurablySync(file: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = tempNameFor(file);
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    fs.writeFileSync(fd, data);
    fs.fchmodSync(fd, mode);
    fs.fdatasyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirSync(path.dirname(file));
}
