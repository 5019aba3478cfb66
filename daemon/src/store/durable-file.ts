// A lowdb adapter that makes writes durable (util/durable-file.ts), keeping the previous version as a
// backup. lowdb's own TextFile adapter renames but never fsyncs (lowdb issue #549).
import fs from 'node:fs';
import type { Adapter } from 'lowdb';
import { writeFileDurably } from '../util/durable-file.js';

export { fsyncDir, writeFileDurably } from '../util/durable-file.js';

export class StoreCorruptError extends Error {
  readonly exitCode = 65; // EX_DATAERR
  constructor(
    readonly file: string,
    readonly problem: string,
    /** Whether a previous version is kept beside it (`<file>.bak`); vapid.json keeps none. */
    hasBackup = true,
  ) {
    super(
      `The store file ${file} ${problem}. Errand did not change it. Restore it from ${hasBackup ? `${file}.bak or ` : ''}the backups folder, or move it away to start fresh.`,
    );
  }
}

/** Reads and upgrades a file's contents; throws a message describing the problem when it cannot. */
export type Decode<T> = (value: unknown) => T;

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
      // Read once, when the document opens (at start): a synchronous read skips four trips through
      // the thread pool (open, stat, read, close).
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new StoreCorruptError(this.file, `cannot be read (${(err as Error).message})`, this.keepBackup);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new StoreCorruptError(this.file, `is not valid JSON (${(err as Error).message})`, this.keepBackup);
    }
    try {
      return this.decode(value);
    } catch (err) {
      throw new StoreCorruptError(this.file, (err as Error).message, this.keepBackup);
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
