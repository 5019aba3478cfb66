// The replay window's frames, packed: each event's frame as UTF-8 bytes in 256 KB chunks, with its
// sequence number and place in typed arrays. Only the chunk being filled stays in memory: a full
// chunk is written to an anonymous file (created and unlinked at once, like the cold file: nothing
// is left after a crash, and the journal stays the truth) and read back when a client resumes. So
// 20,000 events cost a few hundred KB of memory, not their bytes. A chunk that cannot be written
// (disk full) stays in memory; one that cannot be read back makes the resuming client get a
// snapshot, as a client beyond the window does.
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';

/** The bytes of one frame, ready to send as a text message. */
export interface KeptEvent {
  seq: number;
  frame: Buffer;
}

/** Frames are packed in chunks of this size; a larger frame gets a chunk of its own size. */
const CHUNK_BYTES = 256 * 1024;
/**
 * Room for one chunk in the file: any frame fits (events are bounded at 512 KB); a larger one stays
 * in memory. A 256 KB chunk leaves the rest of its slot unwritten (a hole, no disk used).
 */
const SLOT_BYTES = 1024 * 1024;

/** A full chunk: in memory (the one being filled, or one the file could not take) or in a slot of the file. */
interface Chunk {
  buf?: Buffer;
  slot?: number;
  fill: number;
  crc?: number;
  /** Its frames were dropped (its slot may hold another chunk now). */
  dropped?: boolean;
  /** It could not be read back: resumes that need it get a snapshot. */
  broken?: boolean;
}

/**
 * A kept frame whose bytes are read when first sent: a resume far behind reads the file a chunk at
 * a time between the sends (which let other clients' work run), not all at once before.
 */
class LazyFrame implements KeptEvent {
  constructor(
    readonly seq: number,
    private readonly reader: (chunk: Chunk) => Buffer,
    private readonly chunk: Chunk,
    private readonly off: number,
    private readonly len: number,
  ) {}
  get frame(): Buffer {
    return this.reader(this.chunk).subarray(this.off, this.off + this.len);
  }
}

/** The anonymous file full chunks go to, in slots of SLOT_BYTES reused once their frames are dropped. */
class SpillFile {
  private fd: number | undefined;
  private slots = 0;
  private free: number[] = [];
  private closed = false;

  constructor(private readonly dir: string | undefined) {}

  /** Write a full chunk; undefined when it cannot be (no folder, disk full): it stays in memory. */
  put(buf: Buffer, fill: number): number | undefined {
    if (!this.dir || this.closed || fill > SLOT_BYTES) return undefined;
    try {
      if (this.fd === undefined) {
        // A .tmp name: if the daemon dies between open and unlink, start-up removes it.
        const file = path.join(
          this.dir,
          `.replay-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.tmp`,
        );
        this.fd = fs.openSync(file, 'w+', 0o600);
        fs.unlinkSync(file);
      }
      const slot = this.free.pop() ?? this.slots++;
      let done = 0;
      while (done < fill) done += fs.writeSync(this.fd, buf, done, fill - done, slot * SLOT_BYTES + done);
      return slot;
    } catch {
      return undefined;
    }
  }

  /** The first `fill` bytes of the chunk in `slot`. */
  read(slot: number, fill: number): Buffer {
    if (this.fd === undefined) throw new Error('replay file closed');
    const buf = Buffer.allocUnsafe(fill);
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(this.fd, buf, got, buf.length - got, slot * SLOT_BYTES + got);
      if (n <= 0) throw new Error('replay file cut short');
      got += n;
    }
    return buf;
  }

  release(slot: number): void {
    this.free.push(slot);
  }

  close(): void {
    this.closed = true;
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** A growable typed array. */
function grow<T extends Float64Array | Uint32Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  const next = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2));
  next.set(a);
  return next;
}

export class FrameRing {
  private seqs = new Float64Array(1024);
  private chunkIds = new Uint32Array(1024);
  private offsets = new Uint32Array(1024);
  private lengths = new Uint32Array(1024);
  /** Index of the first frame still kept, and one past the last. */
  private start = 0;
  private end = 0;
  private chunks = new Map<number, Chunk>();
  private nextChunkId = 0;
  private current: Chunk | undefined;
  private currentId = -1;
  private file: SpillFile;
  /** Bytes of the frames kept. */
  bytes = 0;

  /** `dir`: where the anonymous file goes (without one, every chunk stays in memory). */
  constructor(dir?: string) {
    this.file = new SpillFile(dir);
  }

  get length(): number {
    return this.end - this.start;
  }

  get firstSeq(): number | undefined {
    return this.length ? this.seqs[this.start] : undefined;
  }

  get lastSeq(): number | undefined {
    return this.length ? this.seqs[this.end - 1] : undefined;
  }

  push(seq: number, frame: string | Buffer): void {
    const len = typeof frame === 'string' ? Buffer.byteLength(frame, 'utf8') : frame.length;
    let cur = this.current;
    if (!cur?.buf || cur.fill + len > cur.buf.length) {
      if (cur) this.spill(cur);
      this.currentId = this.nextChunkId++;
      // Outside Node's small-buffer pool; only the pages written to are resident.
      cur = this.current = { buf: Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, len)), fill: 0 };
      this.chunks.set(this.currentId, cur);
    }
    const buf = cur.buf!;
    if (typeof frame === 'string') buf.write(frame, cur.fill, 'utf8');
    else frame.copy(buf, cur.fill);
    const k = this.end++;
    if (k >= this.seqs.length) {
      this.seqs = grow(this.seqs, k + 1);
      this.chunkIds = grow(this.chunkIds, k + 1);
      this.offsets = grow(this.offsets, k + 1);
      this.lengths = grow(this.lengths, k + 1);
    }
    this.seqs[k] = seq;
    this.chunkIds[k] = this.currentId;
    this.offsets[k] = cur.fill;
    this.lengths[k] = len;
    cur.fill += len;
    this.bytes += len;
  }

  /** A full chunk leaves memory for the file (it stays if the file cannot take it). */
  private spill(chunk: Chunk): void {
    if (!chunk.buf) return;
    const slot = this.file.put(chunk.buf, chunk.fill);
    if (slot === undefined) return;
    chunk.crc = crc32(chunk.buf.subarray(0, chunk.fill));
    chunk.slot = slot;
    chunk.buf = undefined;
  }

  /** Byte length of the i-th kept frame (0 = oldest). */
  lengthAt(i: number): number {
    return this.lengths[this.start + i];
  }

  /** Drop the `n` oldest frames. */
  dropOldest(n: number): void {
    const end = Math.min(this.end, this.start + n);
    for (let i = this.start; i < end; i++) this.bytes -= this.lengths[i];
    this.start = end;
    // Free every chunk older than the one holding the oldest kept frame.
    const firstChunk = this.start < this.end ? this.chunkIds[this.start] : this.currentId;
    for (const [id, chunk] of this.chunks) {
      if (id >= firstChunk) break;
      if (chunk.slot !== undefined) this.file.release(chunk.slot);
      chunk.dropped = true;
      this.chunks.delete(id);
    }
    // Move the kept entries to the front once most of the arrays are dropped entries.
    if (this.start > 1024 && this.start * 2 > this.end) {
      for (const a of [this.seqs, this.chunkIds, this.offsets, this.lengths]) a.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
  }

  /**
   * The kept frames from the i-th (0 = oldest) on; their bytes are read back from the file when
   * first used (reading a frame throws if its chunk was dropped since or cannot be read). Undefined
   * when a chunk they need could not be read before (the caller sends a snapshot instead).
   */
  from(i: number): KeptEvent[] | undefined {
    const first = this.start + Math.max(0, i);
    if (first < this.end) {
      const fromChunk = this.chunkIds[first];
      for (const [id, chunk] of this.chunks) if (id >= fromChunk && chunk.broken) return undefined;
    }
    let last: Chunk | undefined;
    let lastBytes: Buffer | undefined;
    const reader = (chunk: Chunk): Buffer => {
      if (chunk.buf) return chunk.buf;
      if (chunk === last) return lastBytes!;
      if (chunk.dropped || chunk.slot === undefined) throw new Error('these events left the replay window');
      let data: Buffer;
      try {
        data = this.file.read(chunk.slot, chunk.fill);
      } catch (err) {
        chunk.broken = true;
        throw err;
      }
      if (chunk.dropped) throw new Error('these events left the replay window');
      if (crc32(data) !== chunk.crc) {
        chunk.broken = true;
        throw new Error('the replay file is damaged');
      }
      last = chunk;
      lastBytes = data;
      return data;
    };
    const out: KeptEvent[] = [];
    for (let k = first; k < this.end; k++)
      out.push(
        new LazyFrame(this.seqs[k], reader, this.chunks.get(this.chunkIds[k])!, this.offsets[k], this.lengths[k]),
      );
    return out;
  }

  /** Close the file (the frames in it are gone; the ring is not used after this). */
  close(): void {
    this.file.close();
  }
}
