// Where the journal's fdatasync runs. Through the thread pool it costs two thread wake-ups around
// the flush, which on a busy 2-core machine was most of a command's wait for its reply (p95 1.8 ms
// against 0.4 ms on the event loop). On the event loop it costs nothing extra but holds every
// client while the disk works. So it runs on the loop only while the disk has lately been fast,
// and moves to the thread pool as soon as one flush is slow, until the disk is fast again. Flushes
// back to back (parallel tasks checkpointing) also go to the pool: then the loop has other work to
// do while the disk flushes, and throughput matters more than one reply's wait.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

/** The longest the event loop may be held by one flush, as the recent flushes predict it. */
export const ON_LOOP_MAX_MS = 4;
/** A flush starting sooner than this after the last one ended is part of a busy stretch. */
export const BUSY_GAP_MS = 1;
/** How fast the memory of a slow flush fades: about 30 fast flushes after a 50 ms one. */
const DECAY = 0.9;

export interface SyncCalls {
  fdatasyncSync(fd: number): void;
  fdatasync(fd: number, done: (err: NodeJS.ErrnoException | null) => void): void;
}

export class DiskSync {
  /** A decaying maximum of recent flush times (ms): what the next one may take. */
  private recentWorst = 0;
  private lastEnd = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly calls: SyncCalls = fs,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** True when a flush starting now would run on the event loop. */
  get onLoop(): boolean {
    return this.recentWorst < ON_LOOP_MAX_MS && this.now() - this.lastEnd >= BUSY_GAP_MS;
  }

  async fdatasync(fd: number): Promise<void> {
    const start = this.now();
    try {
      if (this.onLoop) this.calls.fdatasyncSync(fd);
      else await new Promise<void>((resolve, reject) => this.calls.fdatasync(fd, (e) => (e ? reject(e) : resolve())));
    } finally {
      this.lastEnd = this.now();
      this.recentWorst = Math.max(this.lastEnd - start, this.recentWorst * DECAY);
    }
  }
}
