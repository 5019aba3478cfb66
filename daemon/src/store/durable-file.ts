// A lowdb adapter that makes writes durable: write a temp file, fsync it, keep the previous version
// as a backup (hard link, so it costs no copy), rename over the target, fsync the folder.
// lowdb's own TextFile adapter renames but never fsyncs (lowdb issue #549).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Adapter } from 'lowdb';

export class StoreCorruptError extends Error {
  readonly exitCode = 65; // EX_DATAERR
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(
      `The store file ${file} ${problem}. Errand did not change it. Restore it from ${file}.bak or the backups folder, or move it away to start fresh.`,
    );
  }
}

/** Reads and upgrades a file's contents; throws a message describing the problem when it cannot. */
export type Decode<T> = (value: unknown) => T;

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeFileDurably(file: string, text: string, keepBackup = true): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const handle = await fs.open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    // fdatasync: the data and the size; the rename and the folder's fsync make the name durable.
    await handle.datasync();
  } finally {
    await handle.close();
  }
  if (keepBackup) {
    // Keep the previous generation: link the current file to .bak (atomic replace via rename).
    const bakTmp = `${file}.bak.tmp`;
    try {
      await fs.rm(bakTmp, { force: true });
      await fs.link(file, bakTmp);
      await fs.rename(bakTmp, `${file}.bak`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  await fs.rename(tmp, file);
  await fsyncDir(dir);
}

export class DurableJsonFile<T> implements Adapter<T> {
  private pending: T | undefined;
  private pendingWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private writing = false;

  constructor(
    readonly file: string,
    private readonly decode: Decode<T>,
    private readonly keepBackup = true,
  ) {}

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StoreCorruptError(this.file, `cannot be read (${(err as Error).message})`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new StoreCorruptError(this.file, `is not valid JSON (${(err as Error).message})`);
    }
    try {
      return this.decode(value);
    } catch (err) {
      throw new StoreCorruptError(this.file, (err as Error).message);
    }
  }

  /**
   * Durable write. Concurrent writes coalesce: while one write is on disk, later ones wait and
   * only the newest data is written next; every caller resolves once data at least as new as
   * theirs is durable.
   */
  write(data: T): Promise<void> {
    this.pending = data;
    const done = new Promise<void>((resolve, reject) => this.pendingWaiters.push({ resolve, reject }));
    if (!this.writing) void this.drain();
    return done;
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.pending !== undefined) {
      const data = this.pending;
      const waiters = this.pendingWaiters;
      this.pending = undefined;
      this.pendingWaiters = [];
      try {
        await writeFileDurably(this.file, JSON.stringify(data), this.keepBackup);
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err);
      }
    }
    this.writing = false;
  }
}
