// The event log: every event sent to clients gets a per-host, monotonically increasing sequence
// number inside a journal record, and is handed to listeners only once that record is durable.
// Events of one command leave with its record; others are records of their own (group commit).
// The replay window is kept in memory, bounded by count and by bytes.
import type { ServerEvent } from '../../../shared/src/index.js';
import { FrameRing, type KeptEvent } from './frame-ring.js';
import { committedEventJson, Journal, type JournalRecord, type LoggedEvent, REPLAY_WINDOW } from './journal.js';

export type { KeptEvent } from './frame-ring.js';
export type { LoggedEvent } from './journal.js';

/** JSON.stringify({ type: 'event', seq, at, event }) byte for byte, from the event's JSON in its record when the journal kept it. */
const frameOf = (e: LoggedEvent): string => {
  const json = committedEventJson(e);
  return json === undefined
    ? JSON.stringify({ type: 'event', seq: e.seq, at: e.at, event: e.event })
    : `{"type":"event","seq":${e.seq},"at":${e.at},"event":${json}}`;
};

/** The `at` of a kept frame, read from its start (`{"type":"event","seq":N,"at":T,…`); undefined if unreadable. */
function atOfFrame(k: KeptEvent): number | undefined {
  let head: Buffer;
  try {
    head = k.frame.subarray(0, 80);
  } catch {
    // Its chunk left the window or cannot be read back: the caller sends a snapshot.
    return undefined;
  }
  const m = /^\{"type":"event","seq":\d+,"at":(\d+)[,}]/.exec(head.toString('latin1'));
  return m ? Number(m[1]) : undefined;
}

/** Events kept in memory for replay; a client further behind gets a snapshot. */
const DEFAULT_RING = REPLAY_WINDOW.events;
const DEFAULT_RING_BYTES = REPLAY_WINDOW.bytes;

export class EventLog {
  private ring: FrameRing;
  private listeners = new Set<(e: LoggedEvent, frame: string) => void>();

  constructor(
    private readonly journal: Journal,
    private readonly ringSize = DEFAULT_RING,
    private readonly ringMaxBytes = DEFAULT_RING_BYTES,
    private readonly owned = false,
  ) {
    this.ring = new FrameRing(journal.dir);
    journal.onCommit((r) => {
      for (const e of r.events) {
        const frame = this.keep(e);
        for (const l of this.listeners) l(e, frame);
      }
    });
  }

  /** A standalone event log in its own journal folder (tests, tools that only need events). */
  static async open(dir: string, opts: { ringSize?: number } = {}): Promise<EventLog> {
    const journal = await Journal.open(dir);
    const log = new EventLog(journal, opts.ringSize ?? DEFAULT_RING, DEFAULT_RING_BYTES, true);
    await journal.load((r) => log.replayed(r));
    await log.ready();
    return log;
  }

  /** Rebuild the replay window from a record read at start-up (the journal's tail). */
  replayed(r: JournalRecord): void {
    for (const e of r.events) this.keep(e);
  }

  private warming: Promise<void> | undefined;

  /**
   * The replay window's older part, from records the snapshot covers, is read after start-up (the
   * daemon answers before it is in): resolves once it is. Replays wait for this.
   */
  ready(): Promise<void> {
    this.warming ??= (async () => {
      const older = new FrameRing(this.journal.dir);
      try {
        await this.journal.readCoveredWindow((e) => older.push(e.seq, frameOf(e)), {
          events: this.ringSize,
          bytes: this.ringMaxBytes,
        });
      } catch {
        // Unreadable history: clients further back get a snapshot, as beyond the window.
        older.close();
        return;
      }
      this.prepend(older);
    })();
    return this.warming;
  }

  /** Put the frames read from older records before the ring's. */
  private prepend(older: FrameRing): void {
    const first = this.ring.firstSeq;
    // Only a run ending right before the ring's first event can be replayed with it (since() counts on it).
    const newer = older.length && (first === undefined || older.lastSeq === first - 1) ? this.ring.from(0) : undefined;
    if (!newer) {
      older.close();
      return;
    }
    try {
      for (const k of newer) older.push(k.seq, k.frame);
    } catch {
      // The newer frames could not be read back: keep the ring as it is.
      older.close();
      return;
    }
    this.ring.close();
    this.ring = older;
    this.trim();
  }

  private keep(e: LoggedEvent): string {
    const frame = frameOf(e);
    this.ring.push(e.seq, frame);
    this.trim();
    return frame;
  }

  private trim(): void {
    const ring = this.ring;
    if (ring.length > this.ringSize * 1.25 || ring.bytes > this.ringMaxBytes) {
      let drop = Math.max(0, ring.length - this.ringSize);
      let bytes = ring.bytes;
      for (let i = 0; i < drop; i++) bytes -= ring.lengthAt(i);
      while (bytes > this.ringMaxBytes * 0.8 && drop < ring.length - 1) bytes -= ring.lengthAt(drop++);
      ring.dropOldest(drop);
    }
  }

  get lastSeq(): number {
    return this.journal.lastSeq;
  }

  /**
   * Persist an event, then hand it to listeners. Resolves with its sequence number once sent;
   * inside a command it leaves with the command's record and resolves 0 at once.
   */
  append(event: ServerEvent): Promise<number> {
    return this.journal.event(event);
  }

  /**
   * Frames of the events after `seq`, or undefined when the client must get a snapshot instead: they
   * are no longer all in memory, or the client's last event is not this host's event `seq`. `at`,
   * the time of that event as the client got it, is checked when given: a home restored from an
   * older backup numbers its new events as the ones the client saw, and a replay would leave the
   * client holding what the store no longer has.
   */
  framesSince(seq: number, at?: number): KeptEvent[] | undefined {
    // A client that saw events `errand repair` dropped holds state the store no longer has.
    if (this.journal.dropped.some((d) => seq >= d.from && seq <= d.to)) return undefined;
    // A number this host never gave out (a home restored from a backup, another host at this address):
    // the client holds state the store does not have, and would skip live events up to that number.
    if (seq > this.lastSeq) return undefined;
    if (at === undefined || seq === 0) {
      if (seq === this.lastSeq) return [];
      const first = this.ring.firstSeq;
      if (first === undefined || first > seq + 1) return undefined;
      return this.ring.from(seq + 1 - first);
    }
    const kept = this.keptFrom(seq);
    if (!kept || atOfFrame(kept[0]) !== at) return undefined;
    return kept.slice(1);
  }

  /** The `at` of event `seq` while it is in the replay window (a snapshot tells the client this with its number). */
  atOf(seq: number): number | undefined {
    const kept = seq > 0 ? this.keptFrom(seq, 1) : undefined;
    return kept ? atOfFrame(kept[0]) : undefined;
  }

  /** The kept frames from event `seq` on (`seq` first), or undefined when it is not in the window. */
  private keptFrom(seq: number, count = Number.POSITIVE_INFINITY): KeptEvent[] | undefined {
    const first = this.ring.firstSeq;
    if (first === undefined || seq < first || seq > this.lastSeq) return undefined;
    const kept = this.ring.from(seq - first)?.slice(0, count);
    return kept?.length && kept[0].seq === seq ? kept : undefined;
  }

  /** The same events, parsed (tests, tools). */
  since(seq: number): LoggedEvent[] | undefined {
    return this.framesSince(seq)?.map((k) => {
      const f = JSON.parse(k.frame.toString('utf8')) as LoggedEvent;
      return { seq: f.seq, at: f.at, event: f.event };
    });
  }

  /** `frame` is the event's frame as clients get it, serialized once for every listener. */
  subscribe(listener: (e: LoggedEvent, frame: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.owned) {
      await this.journal.close();
      this.ring.close();
    } else await this.journal.settle();
  }

  /** Close the replay window's file, once the journal is closed (no more events). */
  closeWindow(): void {
    this.ring.close();
  }
}
