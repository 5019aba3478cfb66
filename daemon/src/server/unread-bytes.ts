// What a peer leaves unread in its socket's send buffer, with the replies it asked for counted
// apart. A reply of tens of MB (a long thread's history, a file) is the peer's own request: it
// leaves as fast as the peer reads, and a slow link must not be cut for it when an event comes
// meanwhile. What else piles up behind it (events, small replies) is bounded as before.
//
// Every write on the socket is measured (the growth of its buffer), so a byte's place in the
// stream is known; the bytes the peer took are the bytes written less those still buffered.
import type { WebSocket } from 'ws';

/** Bytes of a ping or pong frame the host sends: a 2-byte header (server frames are unmasked), then the payload. */
const controlFrameBytes = (payload: Buffer) => 2 + payload.length;

export class UnreadBytes {
  /** Bytes written to the socket so far (those buffered before this existed included). */
  private written: number;
  /** Asked-for replies still (partly) unread: where each starts and ends in the stream. */
  private asked: Array<{ start: number; end: number }> = [];
  /** Their bytes in all (read or not). */
  private askedBytes = 0;

  /** `bound`: what may wait unread besides asked-for replies. */
  constructor(
    private readonly socket: WebSocket,
    private readonly bound: number,
  ) {
    this.written = socket.bufferedAmount;
    // ws answers a peer's ping on its own: those pongs are written too.
    socket.on('ping', (payload: Buffer) => {
      this.written += controlFrameBytes(payload);
    });
  }

  /**
   * Writes through `write`, measuring what it added. `reply`: the peer asked for this frame. A reply
   * counts apart only when it is queued within the bound, so a peer that asks and never reads holds
   * at most one large reply (with the bound's worth before it) apart from the bound.
   */
  write(write: () => void, reply = false): void {
    const before = this.socket.bufferedAmount;
    write();
    const added = Math.max(0, this.socket.bufferedAmount - before);
    const start = this.written;
    this.written += added;
    if (!reply || added === 0 || before > this.bound) return;
    this.askedBytes += added;
    const last = this.asked.at(-1);
    if (last?.end === start) last.end = this.written;
    else this.asked.push({ start, end: this.written });
  }

  /** Bytes of asked-for replies not taken by the peer yet. */
  private askedUnread(buffered: number): number {
    const taken = this.written - buffered;
    while (this.asked.length > 0 && this.asked[0].end <= taken) {
      const r = this.asked.shift()!;
      this.askedBytes -= r.end - r.start;
    }
    const first = this.asked[0];
    if (!first) return 0;
    // Only the oldest can be partly read: the stream leaves in order.
    return Math.min(this.askedBytes - Math.max(0, taken - first.start), buffered);
  }

  /** More than the bound waits unread besides asked-for replies: the peer is not keeping up. */
  over(): boolean {
    const buffered = this.socket.bufferedAmount;
    return buffered > this.bound && buffered - this.askedUnread(buffered) > this.bound;
  }
}
