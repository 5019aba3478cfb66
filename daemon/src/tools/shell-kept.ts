// Where shell runs keep file contents for undo: packs (journal/.shell-runs/kept/pack_<id>.pack),
// each written once, durably, with the contents one run had to read. A later run in the same folder
// finds a file unchanged by its stat signature and refers to the content already kept instead of
// reading and writing it again, so a command in a large folder costs a walk, not a copy.
//
// Bounded: past 96 MB (or 256 packs) the oldest packs no run in flight refers to are removed,
// and the files kept in them are read again by the next run. After a crash nothing here is trusted
// but what a run file names (shell-journal.ts reads it back, checking every hash); once the runs a
// crash cut off are recovered, the folder is removed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir } from '../util/durable-file.js';

/** Where a kept content lies: the pack's file name, the offset and the length in it. */
export interface KeptAt {
  pack: string;
  offset: number;
  length: number;
}

export const KEPT_DIR = 'kept';
const PACK_NAME = /^pack_[0-9a-f]{16}\.pack$/;
export interface KeptBounds {
  /** Bytes in all packs, beyond which the oldest ones not in use are removed. */
  bytes: number;
  packs: number;
}
const DEFAULT_BOUNDS: KeptBounds = { bytes: 96 * 1024 * 1024, packs: 256 };
/** Remembered signatures (path -> hash), a few hundred bytes each. */
const KNOWN_MAX = 20_000;

interface Pack {
  bytes: number;
  shas: string[];
  /** Runs in flight that refer to it. */
  users: number;
}

export interface KnownFile {
  sig: string;
  sha: string;
  /** A moment before the bytes hashed were read. */
  at: number;
}

export class KeptStore {
  readonly dir: string;
  /** Oldest first (a Map keeps insertion order). */
  private readonly packs = new Map<string, Pack>();
  private readonly where = new Map<string, KeptAt>();
  private readonly known = new Map<string, KnownFile>();
  private bytes = 0;

  constructor(
    runsDir: string,
    private readonly bounds: KeptBounds = DEFAULT_BOUNDS,
  ) {
    this.dir = path.join(runsDir, KEPT_DIR);
  }

  /** What a path's content was last seen as (its signature and hash), if remembered. */
  knownFile(file: string): KnownFile | undefined {
    return this.known.get(file);
  }

  remember(file: string, known: KnownFile): void {
    this.known.delete(file);
    if (this.known.size >= KNOWN_MAX) this.known.delete(this.known.keys().next().value as string);
    this.known.set(file, known);
  }

  /** Where `sha`'s content is kept, if it is. */
  locate(sha: string): KeptAt | undefined {
    return this.where.get(sha);
  }

  /** A run in flight refers to these packs: they are not removed until it lets go. */
  hold(packs: Iterable<string>): void {
    for (const name of packs) {
      const p = this.packs.get(name);
      if (p) p.users++;
    }
  }

  release(packs: Iterable<string>): void {
    for (const name of packs) {
      const p = this.packs.get(name);
      if (p) p.users = Math.max(0, p.users - 1);
    }
    this.trim();
  }

  /**
   * Write `contents` (sha -> bytes, none kept yet) as one pack, durably, and hold it for the caller.
   * Returns where each one lies.
   */
  async add(contents: Map<string, Buffer>): Promise<Map<string, KeptAt>> {
    const placed = new Map<string, KeptAt>();
    if (!contents.size) return placed;
    const name = `pack_${crypto.randomBytes(8).toString('hex')}.pack`;
    const file = path.join(this.dir, name);
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const h = await fsp.open(file, 'wx', 0o600);
    let offset = 0;
    try {
      // About a megabyte per write: one trip through the thread pool each, not one per file.
      let batch: Buffer[] = [];
      let pending = 0;
      const flush = async () => {
        const all = Buffer.concat(batch, pending);
        batch = [];
        pending = 0;
        for (let off = 0; off < all.length; ) off += (await h.write(all, off, all.length - off)).bytesWritten;
      };
      for (const [sha, data] of contents) {
        placed.set(sha, { pack: name, offset, length: data.length });
        offset += data.length;
        batch.push(data);
        pending += data.length;
        if (pending >= 1024 * 1024) await flush();
      }
      if (pending) await flush();
      await h.datasync();
      await h.close();
      await fsyncDir(this.dir);
    } catch (err) {
      await h.close().catch(() => undefined);
      await fsp.rm(file, { force: true }).catch(() => undefined);
      throw err;
    }
    this.packs.set(name, { bytes: offset, shas: [...placed.keys()], users: 1 });
    this.bytes += offset;
    // A content another run kept meanwhile keeps its first place (runs may hold that pack).
    for (const [sha, at] of placed) if (!this.where.has(sha)) this.where.set(sha, at);
    return placed;
  }

  /** The kept bytes at `at`, if they are still there and hash to `sha`. */
  async read(at: KeptAt, sha: string): Promise<Buffer | undefined> {
    if (!PACK_NAME.test(at.pack)) return undefined;
    let h: fsp.FileHandle | undefined;
    try {
      h = await fsp.open(path.join(this.dir, at.pack), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      const data = Buffer.alloc(at.length);
      let got = 0;
      while (got < at.length) {
        const { bytesRead } = await h.read(data, got, at.length - got, at.offset + got);
        if (!bytesRead) return undefined;
        got += bytesRead;
      }
      return crypto.createHash('sha256').update(data).digest('hex') === sha ? data : undefined;
    } catch {
      return undefined;
    } finally {
      await h?.close().catch(() => undefined);
    }
  }

  /** Over the bounds: remove the oldest packs no run in flight refers to. */
  private trim(): void {
    for (const [name, p] of this.packs) {
      if (this.bytes <= this.bounds.bytes && this.packs.size <= this.bounds.packs) return;
      if (p.users) continue;
      this.packs.delete(name);
      this.bytes -= p.bytes;
      for (const sha of p.shas) if (this.where.get(sha)?.pack === name) this.where.delete(sha);
      fs.rm(path.join(this.dir, name), { force: true }, () => undefined);
    }
  }

  /** After the runs a crash cut off are recovered: what is left here is of no use. */
  async clear(): Promise<void> {
    await fsp.rm(this.dir, { recursive: true, force: true });
  }
}
