// The replay window's frames, packed: each event's frame as UTF-8 bytes in large shared buffers,
// with its sequence number and place in flat arrays. 20,000 events cost their bytes (a few MB)
// instead of several small objects and strings each, so memory stays flat as events pile up.

/** The bytes of one frame, ready to send as a text message. */
export interface KeptEvent {
  seq: number;
  frame: Buffer;
}

const CHUNK_BYTES = 256 * 1024;

export class FrameRing {
  private seqs: number[] = [];
  private chunkIds: number[] = [];
  private offsets: number[] = [];
  private lengths: number[] = [];
  /** Index of the first frame still kept (earlier entries are dropped lazily). */
  private start = 0;
  private chunks = new Map<number, Buffer>();
  private nextChunkId = 0;
  private current: Buffer | undefined;
  private currentId = -1;
  private fill = 0;
  /** Bytes of the frames kept. */
  bytes = 0;

  get length(): number {
    return this.seqs.length - this.start;
  }

  get firstSeq(): number | undefined {
    return this.length ? this.seqs[this.start] : undefined;
  }

  get lastSeq(): number | undefined {
    return this.length ? this.seqs[this.seqs.length - 1] : undefined;
  }

  push(seq: number, frame: string | Buffer): void {
    const len = typeof frame === 'string' ? Buffer.byteLength(frame, 'utf8') : frame.length;
    if (!this.current || this.fill + len > this.current.length) {
      this.currentId = this.nextChunkId++;
      // Outside Node's small-buffer pool: a chunk is freed as a whole once its frames are dropped.
      this.current = Buffer.allocUnsafeSlow(Math.max(CHUNK_BYTES, len));
      this.chunks.set(this.currentId, this.current);
      this.fill = 0;
    }
    if (typeof frame === 'string') this.current.write(frame, this.fill, 'utf8');
    else frame.copy(this.current, this.fill);
    this.seqs.push(seq);
    this.chunkIds.push(this.currentId);
    this.offsets.push(this.fill);
    this.lengths.push(len);
    this.fill += len;
    this.bytes += len;
  }

  /** Byte length of the i-th kept frame (0 = oldest). */
  lengthAt(i: number): number {
    return this.lengths[this.start + i];
  }

  /** Drop the `n` oldest frames. */
  dropOldest(n: number): void {
    const end = Math.min(this.seqs.length, this.start + n);
    for (let i = this.start; i < end; i++) this.bytes -= this.lengths[i];
    this.start = end;
    // Free every chunk older than the one holding the oldest kept frame.
    const firstChunk = this.start < this.seqs.length ? this.chunkIds[this.start] : this.currentId;
    for (const id of this.chunks.keys()) {
      if (id >= firstChunk) break;
      this.chunks.delete(id);
    }
    // Compact the index arrays once most of them are dropped entries.
    if (this.start > 1024 && this.start * 2 > this.seqs.length) {
      this.seqs = this.seqs.slice(this.start);
      this.chunkIds = this.chunkIds.slice(this.start);
      this.offsets = this.offsets.slice(this.start);
      this.lengths = this.lengths.slice(this.start);
      this.start = 0;
    }
  }

  /** The kept frames from the i-th (0 = oldest) on. */
  from(i: number): KeptEvent[] {
    const out: KeptEvent[] = [];
    for (let k = this.start + Math.max(0, i); k < this.seqs.length; k++) {
      const off = this.offsets[k];
      out.push({ seq: this.seqs[k], frame: this.chunks.get(this.chunkIds[k])!.subarray(off, off + this.lengths[k]) });
    }
    return out;
  }
}
