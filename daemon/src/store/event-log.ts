// The event log: every event sent to clients gets a per-host, monotonically increasing sequence
// number and is appended (fdatasync'd) to a JSON-lines segment before anyone sees it. Events
// emitted in the same tick share one write and one sync (group commit).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { ServerEvent } from '../../../shared/src/index.js';

export interface LoggedEvent {
  seq: number;
  at: number;
  event: ServerEvent;
}

const SEGMENT_EVENTS = 20_000;
/** Events kept in memory for replay; a client further behind gets a snapshot. */
const DEFAULT_RING = 20_000;

export class EventLog {
  private ring: LoggedEvent[] = [];
  private seq = 0;
  private fd: number | undefined;
  private segmentCount = 0;
  private batch: LoggedEvent[] = [];
  private batchDone: Promise<void> | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private listeners = new Set<(e: LoggedEvent) => void>();
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly ringSize: number,
  ) {}

  static async open(dir: string, opts: { ringSize?: number } = {}): Promise<EventLog> {
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    const log = new EventLog(dir, opts.ringSize ?? DEFAULT_RING);
    await log.recover();
    return log;
  }

  get lastSeq(): number {
    return this.seq;
  }

  private segments(): string[] {
    return fs
      .readdirSync(this.dir)
      .filter((f) => /^events-\d{12}\.jsonl$/.test(f))
      .sort();
  }

  private async recover(): Promise<void> {
    const segments = this.segments();
    for (const name of segments.slice(-2)) {
      const file = path.join(this.dir, name);
      const text = await fsp.readFile(file, 'utf8');
      const lines = text.split('\n');
      let goodBytes = 0;
      for (const line of lines) {
        if (!line) continue;
        try {
          const e = JSON.parse(line) as LoggedEvent;
          if (typeof e.seq !== 'number' || e.seq <= this.seq) throw new Error('bad seq');
          this.seq = e.seq;
          this.ring.push(e);
          goodBytes += Buffer.byteLength(line) + 1;
        } catch {
          // A torn final line from a crash mid-append: cut it off, keep everything before it.
          await fsp.truncate(file, goodBytes);
          break;
        }
      }
    }
    if (this.ring.length > this.ringSize) this.ring = this.ring.slice(-this.ringSize);
    const last = segments.at(-1);
    if (last) {
      this.fd = fs.openSync(path.join(this.dir, last), 'a', 0o600);
      this.segmentCount = this.seq - Number.parseInt(last.slice(7, 19), 10) + 1;
    }
  }

  private rotateIfNeeded(nextSeq: number): void {
    if (this.fd !== undefined && this.segmentCount < SEGMENT_EVENTS) return;
    if (this.fd !== undefined) fs.closeSync(this.fd);
    const name = `events-${String(nextSeq).padStart(12, '0')}.jsonl`;
    this.fd = fs.openSync(path.join(this.dir, name), 'a', 0o600);
    this.segmentCount = 0;
    const segments = this.segments();
    for (const old of segments.slice(0, -3)) fs.rmSync(path.join(this.dir, old), { force: true });
  }

  /** Persist an event, then hand it to listeners. Resolves with its sequence number once sent. */
  async append(event: ServerEvent): Promise<number> {
    if (this.closed) throw new Error('event log is closed');
    const entry: LoggedEvent = { seq: ++this.seq, at: Date.now(), event };
    this.batch.push(entry);
    if (!this.batchDone) {
      // Batches are written strictly one after another, so the file and listeners see seq order.
      this.batchDone = new Promise((resolve, reject) =>
        setImmediate(() => {
          const run = this.flushing.then(() => this.flush());
          this.flushing = run.catch(() => undefined);
          run.then(resolve, reject);
        }),
      );
    }
    await this.batchDone;
    return entry.seq;
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    this.batchDone = undefined;
    let text = '';
    for (const e of batch) {
      this.rotateIfNeeded(e.seq);
      text += JSON.stringify(e) + '\n';
      this.segmentCount++;
    }
    const fd = this.fd!;
    await new Promise<void>((resolve, reject) => fs.write(fd, text, (err) => (err ? reject(err) : resolve())));
    await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
    for (const e of batch) {
      this.ring.push(e);
      for (const l of this.listeners) l(e);
    }
    if (this.ring.length > this.ringSize * 1.25) this.ring = this.ring.slice(-this.ringSize);
  }

  /** Events after `seq`, or undefined when they are no longer all in memory (send a snapshot). */
  since(seq: number): LoggedEvent[] | undefined {
    if (seq >= this.seq) return [];
    const first = this.ring[0];
    if (!first || first.seq > seq + 1) return undefined;
    const start = seq + 1 - first.seq;
    return this.ring.slice(start);
  }

  subscribe(listener: (e: LoggedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.batchDone) await this.batchDone.catch(() => undefined);
    await this.flushing;
    this.closed = true;
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
