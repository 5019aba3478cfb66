// Sending a resuming client the events it missed: in chunks, waiting for its socket to drain when it
// is slow, letting other clients' work run between chunks. A reader far behind but reading is never
// cut off; one whose socket takes nothing for REPLAY_STALL_MS is (it resumes later from its last
// seq), since otherwise the replay, and the live events held back for after it, would wait forever.
import type { WebSocket } from 'ws';
import type { KeptEvent } from '../store/event-log.js';

/** Events sent per turn of the event loop, and the buffered bytes at which the replay waits. */
const REPLAY_CHUNK = 64;
const REPLAY_HIGH_WATER = 1024 * 1024;
/**
 * How long a replay waits on a socket that takes no byte. About the heartbeat's reach: a peer with
 * that much unread ahead of the heartbeat's ping could not answer it in time either.
 */
export const REPLAY_STALL_MS = 30_000;

export class ReplayStalled extends Error {
  constructor() {
    super('the client stopped reading during the replay');
  }
}

type RawSocket = NodeJS.EventEmitter & { writableLength: number; _handle?: { writeQueueSize?: number } };
const rawOf = (socket: WebSocket) => (socket as unknown as { _socket?: RawSocket })._socket;

/** Resolves when the socket's send buffer has drained (or soon, if the socket cannot say). */
function drained(socket: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    const raw = rawOf(socket);
    const timer = setTimeout(done, 200);
    function done() {
      clearTimeout(timer);
      raw?.off('drain', done);
      socket.off('close', done);
      resolve();
    }
    raw?.once('drain', done);
    socket.once('close', done);
  });
}

/**
 * Whether the peer takes bytes. `bufferedAmount` only goes down once a whole write is in the kernel,
 * and a chunk of the replay is one write of up to megabytes: a phone on a slow link reading it would
 * look stalled. The part of the current write the kernel has not taken yet (libuv's write queue)
 * goes down as the peer reads, so either going down is progress.
 */
function progressOf(socket: WebSocket): () => boolean {
  const sample = () => ({ buffered: socket.bufferedAmount, unwritten: rawOf(socket)?._handle?.writeQueueSize ?? 0 });
  let last = sample();
  return () => {
    const now = sample();
    const moved = now.buffered < last.buffered || now.unwritten < last.unwritten;
    last = now;
    return moved;
  };
}

export interface ReplayOptions {
  /** Makes the frames of this turn leave in one write. */
  cork: () => void;
  /** Sends one frame (the caller counts what its socket holds). */
  send: (frame: Buffer) => void;
  stallMs?: number;
}

/** Sends `missed` in order; rejects with ReplayStalled when the socket takes nothing for `stallMs`. */
export async function replay(socket: WebSocket, missed: KeptEvent[], opts: ReplayOptions): Promise<void> {
  const stallMs = opts.stallMs ?? REPLAY_STALL_MS;
  const moved = progressOf(socket);
  let lastMoved = performance.now();
  for (let i = 0; i < missed.length; ) {
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > REPLAY_HIGH_WATER) {
      if (moved()) lastMoved = performance.now();
      else if (performance.now() - lastMoved > stallMs) throw new ReplayStalled();
      await drained(socket);
      continue;
    }
    lastMoved = performance.now();
    const end = Math.min(missed.length, i + REPLAY_CHUNK);
    // One write for the chunk, not one per frame.
    opts.cork();
    for (; i < end; i++) {
      opts.send(missed[i].frame);
    }
    await new Promise((r) => setImmediate(r));
  }
}
