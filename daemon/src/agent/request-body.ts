// The model request's JSON, written piece by piece into a kept buffer. JSON.stringify of a whole
// request (the conversation so far, often near a megabyte) makes one large string every turn, and
// a string over 128 KB lives in V8's large-object space: fresh memory pages from the system each
// time, which on this class of machine cost more (2 ms per 700 KB) than all the encoding. Here
// only small pieces (a message's block, a tool's schema) are strings, and the buffer is reused.
// The bytes are exactly JSON.stringify's (same key order, same skipping of undefined).

/** Arrays and objects this deep are walked; what lies deeper is one JSON.stringify piece. */
const WALK_DEPTH = 5;
const MIN_BUFFER = 64 * 1024;
const SPARE_KEPT_MS = 30_000;

let spare: Buffer | undefined;
let spareTimer: NodeJS.Timeout | undefined;
/** Buffers handed out here, so only those come back to the pool. */
const issued = new WeakSet<ArrayBufferLike>();

class Writer {
  buffer: Buffer;
  length = 0;
  constructor(capacity: number) {
    const kept = spare;
    if (kept && kept.length >= capacity) {
      spare = undefined;
      this.buffer = kept;
    } else this.buffer = newBuffer(capacity);
  }
  add(piece: string): void {
    // Latin-1 pieces take at most two UTF-8 bytes a character, others three.
    const room = this.buffer.length - this.length;
    if (piece.length * 3 > room) {
      const needed = Buffer.byteLength(piece);
      if (needed > room) this.grow(this.length + needed);
    }
    this.length += this.buffer.write(piece, this.length, 'utf8');
  }
  private grow(atLeast: number): void {
    const bigger = newBuffer(Math.max(atLeast, this.buffer.length * 2));
    this.buffer.copy(bigger, 0, 0, this.length);
    this.buffer = bigger;
  }
}

function newBuffer(capacity: number): Buffer {
  const buffer = Buffer.allocUnsafeSlow(Math.max(MIN_BUFFER, capacity));
  issued.add(buffer.buffer);
  return buffer;
}

function write(w: Writer, value: unknown, depth: number): void {
  if (depth < WALK_DEPTH && value !== null && typeof value === 'object') {
    if (Array.isArray(value)) {
      w.add('[');
      for (let i = 0; i < value.length; i++) {
        if (i) w.add(',');
        const item = value[i];
        // As JSON.stringify: what has no JSON form is null in an array.
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') w.add('null');
        else write(w, item, depth + 1);
      }
      w.add(']');
      return;
    }
    if (typeof (value as { toJSON?: unknown }).toJSON !== 'function') {
      w.add('{');
      let first = true;
      for (const key of Object.keys(value)) {
        const item = (value as Record<string, unknown>)[key];
        // ...and is left out of an object.
        if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
        w.add(first ? `${JSON.stringify(key)}:` : `,${JSON.stringify(key)}:`);
        first = false;
        write(w, item, depth + 1);
      }
      w.add('}');
      return;
    }
  }
  w.add(JSON.stringify(value) ?? 'null');
}

/**
 * `value` as JSON bytes, in a buffer that goes back to the pool with `releaseJsonBody` once written.
 * A body never released is simply left to the garbage collector.
 */
export function encodeJsonBody(value: unknown, sizeHint = 0): Buffer {
  const w = new Writer(sizeHint);
  write(w, value, 0);
  return w.buffer.subarray(0, w.length);
}

/** The bytes of an `encodeJsonBody` body were written out: its buffer may serve the next request. */
export function releaseJsonBody(bytes: Uint8Array): void {
  if (!issued.has(bytes.buffer)) return;
  const whole = Buffer.from(bytes.buffer, 0, bytes.buffer.byteLength);
  if (spare && spare.length >= whole.length) return;
  spare = whole;
  clearTimeout(spareTimer);
  spareTimer = setTimeout(() => {
    spare = undefined;
  }, SPARE_KEPT_MS).unref();
}
