// Threads nobody works on, moved out of memory. A finished thread's text goes to an anonymous file
// (created and unlinked at once: nothing is left on disk after a crash, and the journal and its
// snapshots stay the truth) and is read back, checked, when the thread is used again. This keeps
// the daemon's memory flat as finished tasks pile up.
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { JsonWriter } from '../util/json-writer.js';
import { SnapshotPart, SnapshotSource } from './snapshot-file.js';

/** Rewrite the file when it is at least this big and more than half of it is no longer used. */
const COMPACT_FROM = 16 * 1024 * 1024;
/** The encoding buffer is kept up to this size between writes (a few threads at a time). */
const ENCODER_BYTES = 256 * 1024;

export class ColdParts {
  private source: SnapshotSource | undefined;
  /** The file before the last rewrite: a snapshot being written may still read a part from it. */
  private retired: SnapshotSource | undefined;
  private size = 0;
  private encoder = new JsonWriter(Buffer.allocUnsafeSlow(ENCODER_BYTES));

  constructor(private readonly dir: string) {}

  private open(): SnapshotSource {
    // A .tmp name: if the daemon dies between open and unlink, start-up removes it.
    const file = path.join(this.dir, `.cold-${process.pid}-${Date.now()}.tmp`);
    const fd = fs.openSync(file, 'w+', 0o600);
    fs.unlinkSync(file);
    this.size = 0;
    return new SnapshotSource(file, fd, true);
  }

  /**
   * Store values (threads) as JSON with one write; undefined for all when they cannot be written
   * (disk full): they then stay in memory. Encoded straight into a kept buffer: JSON.stringify of a
   * thread made its text, and counting its UTF-8 bytes made a flat copy of it; under load (a thread
   * moved out per finished task) those two were a third of what the daemon allocated.
   */
  putAll(values: unknown[]): Array<SnapshotPart | undefined> {
    const w = this.encoder;
    try {
      this.source ??= this.open();
      w.length = 0;
      const ends = values.map((v) => {
        w.json(v);
        return w.length;
      });
      const buf = w.buffer;
      let done = 0;
      while (done < w.length) done += fs.writeSync(this.source.fd, buf, done, w.length - done, this.size + done);
      let at = 0;
      const parts = ends.map((end) => {
        const part = new SnapshotPart(this.source!, this.size + at, end - at, crc32(buf.subarray(at, end)));
        at = end;
        return part;
      });
      this.size += w.length;
      return parts;
    } catch {
      return values.map(() => undefined);
    } finally {
      if (w.buffer.length > ENCODER_BYTES) w.buffer = Buffer.allocUnsafeSlow(ENCODER_BYTES);
    }
  }

  /**
   * When most of the file holds texts no longer used (read back, or copied into a snapshot), copy
   * the ones still used into a new file and drop the old one.
   */
  compactIfSparse(parts: Iterable<SnapshotPart>): void {
    const old = this.source;
    if (!old || this.size < COMPACT_FROM) return;
    const live = [...parts].filter((p) => p.isIn(old));
    const liveBytes = live.reduce((n, p) => n + p.length, 0);
    if (liveBytes * 2 > this.size) return;
    const oldSize = this.size;
    let next: SnapshotSource | undefined;
    const moved: Array<[SnapshotPart, number]> = [];
    try {
      next = this.open();
      for (const p of live) {
        const buf = p.bytes();
        fs.writeSync(next.fd, buf, 0, buf.length, this.size);
        moved.push([p, this.size]);
        this.size += buf.length;
      }
    } catch {
      // Keep using the old file.
      next?.close();
      this.size = oldSize;
      return;
    }
    for (const [p, offset] of moved) p.moveTo(next, offset);
    this.source = next;
    this.retired?.close();
    this.retired = old;
  }

  close(): void {
    this.source?.close();
    this.retired?.close();
    this.source = this.retired = undefined;
  }
}
