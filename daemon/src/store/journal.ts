// The write-ahead journal: the store's source of truth (see docs/store.md). Records are appended to
// segment files as [u32 length][u32 crc32][JSON payload]; each holds typed ops (applied by folds on
// load) and the events they caused. Appends made in the same tick share one write and one
// fdatasync (group commit); nothing a record holds is published before it is durable. The files'
// format and scan are in journal-format.ts, what damage means and says in journal-damage.ts.
import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { ServerEvent } from '../../../shared/src/index.js';
import { JsonWriter } from '../util/json-writer.js';
import { DiskSync } from './disk-sync.js';
import { fsyncDir } from './durable-file.js';
import {
  DiskFullError,
  damagedSnapshotFix,
  findLostRecords,
  JournalDamagedError,
  JournalRecordsLostError,
  NEWEST_SEGMENT_FILE,
  readNewestSegmentMark,
  SnapshotDamagedError,
  snapshotRebuild,
  writeNewestSegmentMark,
} from './journal-damage.js';
import {
  foundRecords,
  HEADER,
  type JournalRecord,
  type LazyRecord,
  type LoggedEvent,
  listSegments,
  listSnapshots,
  type Op,
  pad,
  parseLazy,
  SEGMENT,
  SNAPSHOT,
  scanJournal,
  segmentName,
} from './journal-format.js';
import { Tx } from './journal-tx.js';
import {
  openSnapshot,
  SNAPSHOT_FIX,
  type SnapshotHead,
  type SnapshotPart,
  type SnapshotSource,
  writeSnapshot,
} from './snapshot-file.js';

export * from './journal-damage.js';
export * from './journal-format.js';
export { Tx } from './journal-tx.js';
export { SNAPSHOT_FIX };

/** Turns ops of one type into state. `apply` runs on load only: live changes are already in memory. */
export interface Fold {
  apply(data: unknown): void;
  snapshot(): unknown;
  restore(data: unknown): void;
  /**
   * A fold with many large members (threads) may snapshot them as parts: one JSON text each, written
   * on a line of its own after the snapshot's head and handed back unread on load (a SnapshotPart,
   * read when used; return it as is to copy it into the next snapshot). `head` is stored in the
   * snapshot's head line.
   */
  snapshotParts?(): { head: unknown; parts: Array<string | SnapshotPart> };
  restoreParts?(head: unknown, parts: SnapshotPart[]): void;
}

/** Long work in slices: `maybeYield` lets other callbacks run once `ms` have passed since the last. */
function timeSlices(ms: number): { maybeYield(): Promise<void> | undefined } {
  let since = performance.now();
  return {
    maybeYield() {
      if (performance.now() - since < ms) return undefined;
      return new Promise<void>((r) =>
        setImmediate(() => {
          since = performance.now();
          r();
        }),
      );
    },
  };
}

/** The journal's encoding buffer is kept up to this size between flushes. */
const ENCODER_BYTES = 256 * 1024;
/** Batches up to this size are written on the daemon's thread; larger ones in the thread pool. */
const WRITE_HERE_MAX = 64 * 1024;
/** Events kept in memory for replay (a client further behind gets a snapshot). */
export const REPLAY_WINDOW = { events: 20_000, bytes: 32 * 1024 * 1024 };
export const SEQ_FLOOR_OP = 'journal.seq';
/** How long a transaction waits for an earlier one that changed the same thing. */
const ORDER_WAIT_MS = 5000;
const SEGMENT_BYTES = 32 * 1024 * 1024;
/** Journal bytes after which a snapshot is written and older segments dropped. */
const COMPACT_BYTES = 64 * 1024 * 1024;
/** Covered segments kept anyway, so clients a little behind still get events replayed after a restart. */
const KEEP_FOR_REPLAY_BYTES = 24 * 1024 * 1024;

/** The most one event may weigh, serialized: half a WebSocket frame (MAX_FRAME). */
export const MAX_EVENT_BYTES = 512 * 1024;

export class EventTooLargeError extends Error {
  constructor(
    readonly kind: string,
    readonly bytes: number,
  ) {
    super(`a ${kind} event of ${bytes} bytes is over the ${MAX_EVENT_BYTES}-byte bound; it was not recorded`);
  }
}

/** Each committed event's JSON, as written in its record (the event log builds its frame from it). */
const eventJsons = new WeakMap<LoggedEvent, string>();

/** The JSON of an event the journal committed, when it still has it (serialized once per event). */
export function committedEventJson(e: LoggedEvent): string | undefined {
  return eventJsons.get(e);
}

/**
 * Each event's JSON as made by event() for its size check, so it is serialized once: the record
 * holds the event as it was when published (the bytes that were checked against the bound).
 */
const publishedJsons = new WeakMap<ServerEvent, string>();

/**
 * JSON.stringify(rec), byte for byte (each event as published), written into `w` in pieces: no
 * string of the whole record. Each event's JSON is kept for its frame.
 */
function writeRecord(w: JsonWriter, rec: JournalRecord): void {
  w.add(`{"n":${rec.n},"at":${rec.at},"ops":`);
  w.json(rec.ops, 1);
  w.add(',"events":[');
  rec.events.forEach((e, i) => {
    const json = publishedJsons.get(e.event) ?? JSON.stringify(e.event);
    eventJsons.set(e, json);
    w.add(`${i ? ',' : ''}{"seq":${e.seq},"at":${e.at},"event":`);
    w.add(json);
    w.add('}');
  });
  w.add(']}');
}

interface Pending {
  ops: Op[];
  events: ServerEvent[];
  resolve: (r: JournalRecord) => void;
  reject: (e: unknown) => void;
}

// The open transaction of an async context. Node 20 tracks it with a hook on every promise made
// anywhere in the process while the storage is enabled: it is enabled only while some transaction
// is open, until its body returns (a context seen with none open can only hold a closed one, which
// counts as none).
const als = new AsyncLocalStorage<Tx>();

let openTransactions = 0;
function transactionClosed(): void {
  if (--openTransactions === 0) als.disable();
}

/**
 * Test-only crash points, so tests can kill -9 at an exact place: ERRAND_TEST_CRASH=
 * `mid-append:<command id>` (half the record written), `after-append:<command id>` (durable, reply
 * not sent) or `mid-snapshot` (temp file half written).
 */
const CRASH = (() => {
  const v = process.env.ERRAND_TEST_CRASH;
  if (!v) return undefined;
  const cut = v.indexOf(':');
  return cut < 0 ? { point: v, id: '' } : { point: v.slice(0, cut), id: v.slice(cut + 1) };
})();
/** Test-only: while the file ERRAND_TEST_DISK_FULL names exists, appends fail as on a full disk. */
const DISK_FULL_FLAG = process.env.ERRAND_TEST_DISK_FULL;
const repliesTo = (recs: JournalRecord[], id: string) =>
  recs.some((r) => r.ops.some((o) => o.t === 'reply' && (o.d as { id?: string }).id === id));
function crashNow(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

/** Sizes tests make small, to see segments turn over and be dropped without writing 32 MB. */
export interface JournalOptions {
  segmentBytes?: number;
  keepForReplayBytes?: number;
  /** A snapshot is taken once this much was appended since the last one. */
  compactBytes?: number;
}

export class Journal {
  private folds = new Map<string, Fold>();
  private committedListeners = new Set<(r: JournalRecord) => void>();
  private n = 0;
  private seq = 0;
  private fd: number | undefined;
  /** The segment appended to, and the one the newest-segment mark names. */
  private segment: string | undefined;
  private markedSegment: string | undefined;
  private segmentBytes = 0;
  private bytesSinceSnapshot = 0;
  /**
   * After a snapshot failed, the next try waits for as much again to be appended: the cause (a
   * damaged snapshot part, a full disk) rarely goes away between two appends, and every try reads
   * the whole state and says so in the log.
   */
  private nextSnapshotAt = 0;
  private snapshotN = 0;
  private snapshotAt = 0;
  private queue: Pending[] = [];
  private scheduled = false;
  private flushing: Promise<void> = Promise.resolve();
  /** Where a flush encodes its batch (see flush); a large one is not kept past the flush. */
  private encoder = new JsonWriter(Buffer.allocUnsafeSlow(ENCODER_BYTES));
  private diskSync = new DiskSync();
  private openByKey = new Map<string, Tx>();
  private openTx = 0;
  private compacting: Promise<void> | undefined;
  private closed = false;
  /** Records the snapshot covers, kept unread for the replay window (readCoveredWindow). */
  private covered: JournalRecord[] = [];
  /** The snapshot that folds' unread parts are in. */
  private source: SnapshotSource | undefined;
  /** Event numbers `errand repair` dropped: a client that saw one of them needs a fresh snapshot. */
  dropped: Array<{ from: number; to: number }> = [];
  /**
   * Events numbered up to here are not handed to the replay window at load: numbering jumps over
   * the numbers `errand repair` dropped, and the window is read by position, so it never spans a jump.
   */
  private windowAfter = 0;
  /** What load found and fixed (a torn tail): shown to the user as notices. */
  readonly notices: string[] = [];
  private warningListeners = new Set<(text: string) => void>();

  private readonly maxSegmentBytes: number;
  private readonly keepForReplayBytes: number;
  private readonly compactBytes: number;

  private constructor(
    readonly dir: string,
    opts: JournalOptions,
  ) {
    this.maxSegmentBytes = opts.segmentBytes ?? SEGMENT_BYTES;
    this.keepForReplayBytes = opts.keepForReplayBytes ?? KEEP_FOR_REPLAY_BYTES;
    this.compactBytes = opts.compactBytes ?? COMPACT_BYTES;
    this.nextSnapshotAt = this.compactBytes;
  }

  /** Open a journal folder. Register folds, then call load(). */
  static async open(dir: string, opts: JournalOptions = {}): Promise<Journal> {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 }); // at start: nothing else waits
    return new Journal(dir, opts);
  }

  get lastSeq(): number {
    return this.seq;
  }
  get lastRecord(): number {
    return this.n;
  }

  /** True when load found neither a snapshot nor a record (a new home, or one from before the journal). */
  isEmpty(): boolean {
    return this.snapshotN === 0 && this.n === 0 && listSnapshots(this.dir).length === 0;
  }

  /** For the migration: continue the event numbering of an older store. */
  adoptSeq(seq: number): void {
    if (this.n === 0 && seq > this.seq) this.seq = seq;
  }

  register(type: string, fold: Fold): void {
    if (this.folds.has(type)) throw new Error(`journal fold ${type} registered twice`);
    this.folds.set(type, fold);
  }

  /** Problems met while running that lose nothing but must be said (a snapshot not written): for the log. */
  onWarning(listener: (text: string) => void): () => void {
    this.warningListeners.add(listener);
    return () => this.warningListeners.delete(listener);
  }

  private warn(text: string): void {
    // With no listener (nobody wired one), stderr: the daemon's terminal or its service's log.
    if (!this.warningListeners.size) process.stderr.write(`WARN: ${text}\n`);
    for (const l of this.warningListeners) l(text);
  }

  /** A snapshot could not be written: nothing is lost (the segments stay), but it must not go unsaid. */
  private snapshotFailed(err: unknown): void {
    this.warn(
      `Errand could not write a snapshot of its journal in ${this.dir}: ${(err as Error).message} ` +
        'Nothing is lost: the journal keeps every record since the last snapshot, and the next start reads them.',
    );
  }

  onCommit(listener: (r: JournalRecord) => void): () => void {
    this.committedListeners.add(listener);
    return () => this.committedListeners.delete(listener);
  }

  /**
   * Restore the newest snapshot, then apply every later record in number order. Calls `onRecord`
   * for each replayed record (the event log rebuilds its replay window from them).
   */
  async load(onRecord?: (r: JournalRecord) => void): Promise<void> {
    for (const name of fs.readdirSync(this.dir))
      if (name.endsWith('.tmp')) await fsp.rm(path.join(this.dir, name), { force: true });
    const snaps = listSnapshots(this.dir);
    const latest = snaps.at(-1);
    if (latest) {
      const file = path.join(this.dir, latest);
      let snap: ReturnType<typeof openSnapshot>;
      try {
        snap = openSnapshot(file);
      } catch (err) {
        throw new SnapshotDamagedError(
          file,
          `snapshot is not valid: ${(err as Error).message}`,
          damagedSnapshotFix(snapshotRebuild(this.dir, latest)),
        );
      }
      const { head, parts } = snap;
      this.source = snap.source;
      this.n = this.snapshotN = head.n;
      this.snapshotAt = head.at ?? 0;
      this.seq = head.seq;
      this.dropped = head.dropped ?? [];
      for (const [type, data] of Object.entries(head.folds)) {
        const fold = this.folds.get(type);
        const list = parts.get(type);
        if (list && fold?.restoreParts) fold.restoreParts(data, list);
        else fold?.restore(data);
      }
    }
    const scan = scanJournal(this.dir, this.snapshotN);
    if (scan.damaged) {
      const d = scan.damaged;
      throw new JournalDamagedError(d.file, d.offset, d.problem, d.eventsAfter);
    }
    // Before anything is changed (a torn tail cut): a start from what is left would hand out again
    // numbers phones already hold.
    const lost = findLostRecords(this.dir, foundRecords(scan), { n: this.snapshotN, at: this.snapshotAt });
    if (lost) throw new JournalRecordsLostError(this.dir, lost);
    if (scan.torn) {
      const { file, offset, bytes } = scan.torn;
      const kept = path.join(this.dir, `torn-${Date.now()}.bin`);
      const buf = fs.readFileSync(file);
      fs.writeFileSync(kept, buf.subarray(offset), { mode: 0o600 });
      fs.truncateSync(file, offset);
      await fsyncDir(this.dir);
      this.notices.push(
        `The journal ended in a record cut off by a crash (${bytes} bytes at byte ${offset} of ${path.basename(file)}); it was never acknowledged. The bytes are kept in ${kept}.`,
      );
    }
    for (const c of scan.coveredDamage ?? [])
      this.notices.push(
        `The journal file ${c.file} is damaged at byte ${c.offset} (${c.problem}; ${c.bytes} bytes), in records the snapshot already holds (up to record ${this.snapshotN}): nothing is lost, and Errand skipped them. ` +
          'Phones that saw their events get a fresh copy of the threads. To remove the damaged bytes, stop Errand and run `errand repair` (it keeps a copy first).',
      );
    // Records the snapshot covers matter only for their events (the replay window): they are read
    // after start-up, when the event log asks (readCoveredWindow). The window is read by position,
    // so it starts after skipped damage: it never spans the events lost there.
    const windowFrom = Math.max(0, ...(scan.coveredDamage ?? []).map((c) => c.recordsBefore));
    this.covered = scan.records.slice(windowFrom).filter((r) => r.n <= this.snapshotN);
    for (const d of this.dropped) this.windowAfter = Math.max(this.windowAfter, d.to);
    for (const rec of scan.records) {
      if (rec.n <= this.snapshotN) continue;
      for (const op of rec.ops)
        if (op.t === SEQ_FLOOR_OP && (op.d as { droppedFrom?: number }).droppedFrom !== undefined)
          this.windowAfter = Math.max(this.windowAfter, (op.d as { seq: number }).seq);
    }
    for (const rec of scan.records) {
      if (rec.n <= this.snapshotN) continue;
      if (rec.n !== this.n + 1)
        throw new JournalDamagedError(this.dir, 0, `record ${this.n + 1} is missing (found ${rec.n})`, 0);
      this.n = rec.n;
      for (const op of rec.ops) {
        // Written by `errand repair`: events numbered up to here were dropped; never reuse their numbers.
        if (op.t === SEQ_FLOOR_OP) {
          const f = op.d as { seq: number; droppedFrom?: number };
          this.seq = Math.max(this.seq, f.seq);
          if (f.droppedFrom !== undefined) this.dropped.push({ from: f.droppedFrom, to: f.seq });
        } else this.folds.get(op.t)?.apply(op.d);
      }
      for (const e of rec.events) {
        if (e.seq !== this.seq + 1)
          throw new JournalDamagedError(this.dir, 0, `event ${this.seq + 1} is missing (found ${e.seq})`, 0);
        this.seq = e.seq;
      }
      // A record's events are all on one side of a jump (the floor record holds none).
      if (!rec.events.length || rec.events[0].seq > this.windowAfter) onRecord?.(rec);
    }
    const segs = listSegments(this.dir);
    this.bytesSinceSnapshot = scan.bytesAfter(this.snapshotN);
    const last = segs.at(-1);
    if (last) {
      const file = path.join(this.dir, last);
      this.fd = fs.openSync(file, 'a', 0o600);
      this.segment = last;
      this.segmentBytes = fs.fstatSync(this.fd).size;
    }
    // Absent after a clean stop (or in a home from before it): the first append writes it.
    this.markedSegment = readNewestSegmentMark(this.dir);
  }

  /**
   * The events of the newest records the last snapshot covers, as many as the replay window holds,
   * handed to `onEvent` oldest first (once; start-up only keeps where the records are). Two passes:
   * newest first to find where the window starts, then oldest first; no record is held longer than
   * it is read, so a long history leaves no garbage old enough to stay resident (the first way held
   * every record until the last: ~13 MB of heap kept after a home with 4,000 tasks had started).
   * It runs after the daemon answers, in slices of `sliceMs` between which requests are served (a
   * count of records made a slice of 20-30 ms on a long history: the first requests after a
   * restart waited for it).
   */
  async readCoveredWindow(onEvent: (e: LoggedEvent) => void, limits = REPLAY_WINDOW, sliceMs = 4): Promise<void> {
    const covered = this.covered;
    this.covered = [];
    const files = new Map<string, number>();
    const slice = timeSlices(sliceMs);
    try {
      let first = covered.length;
      let events = 0;
      let bytes = 0;
      for (let i = covered.length - 1, k = 0; i >= 0 && events < limits.events && bytes < limits.bytes; i--) {
        const lazy = covered[i] as LazyRecord;
        // A record without events (most thread changes) adds nothing to the window: not read again.
        if (lazy.noEvents) continue;
        bytes += lazy.at_?.length ?? lazy.body?.length ?? 0;
        events += parseLazy(lazy, files).events.length;
        first = i;
        if (++k % 8 === 0) await slice.maybeYield();
      }
      for (let i = first, k = 0; i < covered.length; i++) {
        const lazy = covered[i] as LazyRecord;
        if (lazy.noEvents) continue;
        for (const e of parseLazy(lazy, files).events) if (e.seq > this.windowAfter) onEvent(e);
        if (++k % 8 === 0) await slice.maybeYield();
      }
    } finally {
      for (const fd of files.values()) fs.closeSync(fd);
    }
  }

  /** The transaction this async context runs in, if it is still open. */
  current(): Tx | undefined {
    const tx = als.getStore();
    return tx && !tx.closed ? tx : undefined;
  }

  /** Run `fn` once the current transaction's record is written and its caller has the result (at once when there is none). */
  afterCommit(fn: () => void): void {
    const tx = this.current();
    if (tx) tx.afterCommit.push(fn);
    else fn();
  }

  /** Run `fn` outside any transaction (work it starts is not part of the caller's record). */
  detached<T>(fn: () => T): T {
    // Not als.exit(): on Node 20 it turns the promise hooks off and on again around `fn` (~2 us,
    // and it rebuilds them), for the same result as running with no transaction. With none open
    // anywhere there is nothing to leave.
    return openTransactions === 0 ? fn() : als.run(undefined as unknown as Tx, fn);
  }

  /**
   * Run `fn` as one transaction: every op and event it records (directly or through the stores) is
   * committed as ONE record after it returns, together with what `finish` adds. Resolves once durable.
   */
  async transaction<T>(
    fn: (tx: Tx) => Promise<T>,
    finish?: (tx: Tx, value: T | undefined) => void,
    opts: { undoable?: boolean } = {},
  ): Promise<T> {
    const outer = this.current();
    if (outer) {
      // Nested: part of the enclosing transaction's record.
      const v = await fn(outer);
      finish?.(outer, v);
      return v;
    }
    const tx = new Tx();
    tx.undoable = opts.undoable ?? false;
    this.openTx++;
    openTransactions++;
    let value: T | undefined;
    let failed: { err: unknown } | undefined;
    try {
      value = await als.run(tx, () => fn(tx));
    } catch (err) {
      failed = { err };
    }
    try {
      finish?.(tx, value);
    } catch (err) {
      failed ??= { err };
    } finally {
      tx.closed = true;
      transactionClosed(); // nothing joins it now, though its record is still to be written
    }
    try {
      if (tx.after.size) {
        // Keep the order the changes were made in; bounded, so two transactions waiting on each
        // other's work cannot hang.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all([...tx.after].map((t) => t.done)),
          new Promise((r) => {
            timer = setTimeout(r, ORDER_WAIT_MS);
          }),
        ]);
        clearTimeout(timer);
      }
      if (tx.ops.length || tx.events.length) {
        try {
          await this.append(tx.ops, tx.events);
          for (const j of tx.joined) j.resolve();
        } catch (err) {
          for (const hook of tx.failHooks.reverse()) hook();
          for (const j of tx.joined) j.reject(err);
          throw err;
        }
      } else for (const j of tx.joined) j.resolve();
    } finally {
      // Open until its record is queued or failed: a snapshot never holds a change not yet written.
      this.openTx--;
      for (const k of tx.keys) if (this.openByKey.get(k) === tx) this.openByKey.delete(k);
      tx.settle();
      // On the next turn of the event loop, so the caller's reply (a promise chain) leaves first: run
      // at once, a task's first steps (~0.15 ms) delayed the reply of every command that started one.
      const later = tx.afterCommit;
      if (later.length)
        setImmediate(() => {
          for (const fn of later) this.detached(fn);
        });
    }
    if (failed) throw failed.err;
    return value as T;
  }

  /**
   * Record an op. Inside a transaction it joins the transaction's record (resolves at once); an op
   * on a key an open transaction touched joins that transaction (so the journal keeps the order the
   * changes were made in); otherwise it is its own record. Resolves once durable.
   */
  record(op: Op, key?: string): Promise<void> {
    const tx = this.current();
    if (tx) {
      tx.ops.push(op);
      if (key) {
        const other = this.openByKey.get(key);
        if (other && other !== tx && !other.closed) tx.after.add(other);
        tx.keys.add(key);
        this.openByKey.set(key, tx);
      }
      return Promise.resolve();
    }
    const open = key ? this.openByKey.get(key) : undefined;
    if (open && !open.closed) {
      open.ops.push(op);
      return new Promise((resolve, reject) => open.joined.push({ resolve, reject }));
    }
    // A transaction that changed this key is finishing: this record goes after its record.
    if (open) return open.done.then(() => this.append([op], [])).then(() => undefined);
    return this.append([op], []).then(() => undefined);
  }

  /** Publish an event: inside a transaction it leaves with the record (resolves 0 at once). */
  event(e: ServerEvent): Promise<number> {
    // Every event fits in one WebSocket frame with room to spare; a larger one is a bug upstream.
    const json = JSON.stringify(e);
    // Bytes are at most 3 per UTF-16 unit: most events need no exact count.
    const size = json.length * 3 <= MAX_EVENT_BYTES ? json.length : Buffer.byteLength(json);
    if (size > MAX_EVENT_BYTES) return Promise.reject(new EventTooLargeError(e.kind, size));
    publishedJsons.set(e, json);
    const tx = this.current();
    if (tx) {
      tx.events.push(e);
      return Promise.resolve(0);
    }
    return this.append([], [e]).then((r) => r.events[0].seq);
  }

  /** Append one record (group commit); resolves once it is durable and its events were handed on. */
  append(ops: Op[], events: ServerEvent[]): Promise<JournalRecord> {
    if (this.closed) return Promise.reject(new Error('the journal is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ ops, events, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          const run = this.flushing.then(() => this.flush());
          this.flushing = run.catch(() => undefined);
        });
      }
    });
  }

  private openSegment(firstN: number): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.segment = segmentName(firstN);
    this.fd = fs.openSync(path.join(this.dir, this.segment), 'a', 0o600);
    this.segmentBytes = 0;
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0);
    if (!batch.length) return;
    const n0 = this.n;
    const seq0 = this.seq;
    const records: JournalRecord[] = [];
    const at = Date.now();
    try {
      // The batch is encoded straight into the journal's kept buffer, a record's JSON in pieces:
      // a turn's record can pass 128 KB, and one string or buffer that large per append costs fresh
      // memory pages every time (util/json-writer.ts). Flushes run one at a time, so one buffer.
      const w = this.encoder;
      w.length = 0;
      let lastLength = 0;
      for (const p of batch) {
        const rec: JournalRecord = {
          n: ++this.n,
          at,
          ops: p.ops,
          events: p.events.map((event) => ({ seq: ++this.seq, at, event })),
        };
        records.push(rec);
        const head = w.reserve(HEADER);
        writeRecord(w, rec);
        lastLength = w.length - head - HEADER;
        w.buffer.writeUInt32LE(lastLength, head);
        w.buffer.writeUInt32LE(crc32(w.buffer.subarray(head + HEADER, w.length)), head + 4);
      }
      const data = w.buffer.subarray(0, w.length);
      const size = data.length;
      if (this.fd === undefined || this.segmentBytes >= this.maxSegmentBytes) {
        this.openSegment(records[0].n);
        await fsyncDir(this.dir);
      }
      // The segment is on disk before the mark names it, and the mark before a record goes in.
      // Retried with the next batch if it fails (no record of this one is then in the segment).
      if (this.markedSegment !== this.segment) {
        await writeNewestSegmentMark(this.dir, this.segment!);
        this.markedSegment = this.segment;
      }
      const fd = this.fd!;
      let written = 0;
      if (DISK_FULL_FLAG && fs.existsSync(DISK_FULL_FLAG))
        throw Object.assign(new Error('ENOSPC: no space left on device (injected)'), { code: 'ENOSPC' });
      if (CRASH?.point === 'mid-append' && repliesTo(records, CRASH.id)) {
        // Cut inside the last record of the batch (never on a record boundary).
        fs.writeSync(fd, data, 0, data.length - Math.max(1, Math.floor(lastLength / 2)));
        fs.fdatasyncSync(fd);
        crashNow();
      }
      try {
        // A small batch is copied into the file here (microseconds, to the page cache), and made
        // durable on the event loop while the disk is fast (disk-sync.ts): each trip through the
        // thread pool wakes a worker.
        if (data.length <= WRITE_HERE_MAX) {
          while (written < data.length) written += fs.writeSync(fd, data, written, data.length - written);
          await this.diskSync.fdatasync(fd);
        } else {
          while (written < data.length) {
            written += await new Promise<number>((resolve, reject) =>
              fs.write(fd, data, written, data.length - written, null, (err, w) => (err ? reject(err) : resolve(w))),
            );
          }
          await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
        }
      } catch (err) {
        // Cut what made it to the file so the journal stays whole; the next append starts clean.
        if (written > 0 || (err as NodeJS.ErrnoException).code === 'ENOSPC') {
          try {
            fs.ftruncateSync(fd, this.segmentBytes);
          } catch {
            /* the next load cuts it as a torn tail */
          }
        }
        throw err;
      }
      this.segmentBytes += size;
      this.bytesSinceSnapshot += size;
      if (CRASH?.point === 'after-append' && repliesTo(records, CRASH.id)) crashNow();
    } catch (err) {
      this.n = n0;
      this.seq = seq0;
      const code = (err as NodeJS.ErrnoException).code;
      const e = code === 'ENOSPC' || code === 'EDQUOT' ? new DiskFullError(this.dir) : err;
      for (const p of batch) p.reject(e);
      return;
    } finally {
      if (this.encoder.buffer.length > ENCODER_BYTES) this.encoder.buffer = Buffer.allocUnsafeSlow(ENCODER_BYTES);
    }
    for (let i = 0; i < batch.length; i++) {
      for (const l of this.committedListeners) l(records[i]);
      batch[i].resolve(records[i]);
    }
    if (this.bytesSinceSnapshot > this.nextSnapshotAt) this.compactSoon();
  }

  private compactSoon(): void {
    if (this.compacting) return;
    this.compacting = this.snapshot()
      .catch((err) => {
        this.nextSnapshotAt = this.bytesSinceSnapshot + this.compactBytes;
        this.snapshotFailed(err);
      })
      .finally(() => {
        this.compacting = undefined;
      });
  }

  /** Wait for a snapshot under way (one an append started) to end, written or failed. */
  async compacted(): Promise<void> {
    await this.compacting;
  }

  /** Wait until nothing is queued or being written. */
  async settle(): Promise<void> {
    while (this.queue.length || this.scheduled) {
      await new Promise((r) => setImmediate(r));
      await this.flushing;
    }
    await this.flushing;
  }

  /**
   * Write a snapshot of every fold as of the last committed record, then drop the segments it
   * covers. Only taken when no transaction is open, so memory equals the committed state.
   */
  async snapshot(): Promise<void> {
    await this.settle();
    if (this.openTx > 0 || this.queue.length) return;
    const folds: Record<string, unknown> = {};
    const partCounts: Record<string, number> = {};
    const parts: Array<string | SnapshotPart> = [];
    for (const [type, fold] of this.folds) {
      if (fold.snapshotParts) {
        const taken = fold.snapshotParts();
        folds[type] = taken.head;
        partCounts[type] = taken.parts.length;
        parts.push(...taken.parts);
      } else folds[type] = fold.snapshot();
    }
    const n = this.n;
    const head: SnapshotHead = {
      v: 2,
      n,
      seq: this.seq,
      at: Date.now(),
      folds,
      parts: partCounts,
      dropped: this.dropped,
    };
    const crash =
      CRASH?.point === 'mid-snapshot'
        ? (partial: Buffer): never => {
            fs.writeFileSync(path.join(this.dir, `.snapshot-${pad(n)}.json.${process.pid}.tmp`), partial);
            crashNow();
          }
        : undefined;
    const source = await writeSnapshot(path.join(this.dir, `snapshot-${pad(n)}.json`), head, parts, crash);
    // Every part still on disk was copied into the new file and moved there: the old one can close.
    this.source?.close();
    this.source = source;
    this.snapshotN = n;
    this.bytesSinceSnapshot = 0;
    this.nextSnapshotAt = this.compactBytes;
    for (const s of listSnapshots(this.dir)) {
      if (Number(SNAPSHOT.exec(s)![1]) < n) await fsp.rm(path.join(this.dir, s), { force: true });
    }
    // Drop segments the snapshot covers, except the newest ones kept for replaying events. The
    // segment holding record n, or one starting at n + 1, always stays (load counts on it), and so
    // does the one the newest-segment mark names.
    const segs = listSegments(this.dir);
    let kept = 0;
    for (let i = segs.length - 1; i >= 0; i--) {
      const file = path.join(this.dir, segs[i]);
      const covered = i < segs.length - 1 && Number(SEGMENT.exec(segs[i + 1])![1]) - 1 <= n;
      if (covered && kept >= this.keepForReplayBytes && segs[i] !== this.markedSegment)
        await fsp.rm(file, { force: true });
      else kept += fs.statSync(file).size;
    }
    await fsyncDir(this.dir);
  }

  async close(snapshot = true): Promise<void> {
    if (this.closed) return;
    await this.settle();
    if (this.compacting) await this.compacting;
    if (snapshot && this.n > this.snapshotN) await this.snapshot().catch((err) => this.snapshotFailed(err));
    this.closed = true;
    if (snapshot && this.n === this.snapshotN && !this.queue.length) {
      // The snapshot holds every record: no mark needed until the next append (see NEWEST_SEGMENT_FILE).
      await fsp.rm(path.join(this.dir, NEWEST_SEGMENT_FILE), { force: true }).catch(() => undefined);
    }
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    this.source?.close();
    this.source = undefined;
  }
}
