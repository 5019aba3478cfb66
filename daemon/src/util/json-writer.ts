// JSON written piece by piece into a growing buffer, bytes exactly JSON.stringify's (same key order,
// same leaving out of undefined). JSON.stringify of a large value makes one large string, and on
// this class of machine a V8 large object (over 128 KB) or a malloc chunk above the daemon's mmap
// threshold takes fresh pages from the system: about 2 ms per 700 KB, more than the encoding. Here
// only small pieces are strings and the buffer can be kept from one use to the next.

/** Arrays and objects this deep are walked; what lies deeper is one JSON.stringify piece. */
const WALK_DEPTH = 5;

/** Pieces up to this many characters are copied byte by byte when they are ASCII. */
const SHORT_PIECE = 32;

// Objects of one kind repeat their keys: each key's JSON (`"key":`) is made once. Bounded, since
// the keys of data from outside (a tool's input, a connector's output) may be anything.
const KEY_JSON_KEPT = 4096;
const keyJsonKept = new Map<string, string>();
function keyJson(key: string): string {
  let piece = keyJsonKept.get(key);
  if (piece === undefined) {
    piece = `${JSON.stringify(key)}:`;
    if (keyJsonKept.size < KEY_JSON_KEPT && key.length <= SHORT_PIECE) keyJsonKept.set(key, piece);
  }
  return piece;
}

/** Characters JSON.stringify escapes, and any outside ASCII (more than one byte in UTF-8). */
const WRITTEN_OTHERWISE = /["\\\u0000-\u001f\u007f-\uffff]/;

export const noJsonForm = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';

export class JsonWriter {
  length = 0;
  constructor(
    public buffer: Buffer,
    private readonly allocate: (capacity: number) => Buffer = (c) => Buffer.allocUnsafeSlow(c),
  ) {}

  /** A piece of text, as UTF-8. */
  add(piece: string): void {
    const room = this.buffer.length - this.length;
    // Most pieces are a few ASCII characters (punctuation, keys, numbers): copied here, they cost
    // neither a call into the engine nor the flattening of a concatenated string.
    if (piece.length <= SHORT_PIECE && piece.length <= room) {
      const buffer = this.buffer;
      const at = this.length;
      let i = 0;
      for (; i < piece.length; i++) {
        const c = piece.charCodeAt(i);
        if (c > 0x7f) break;
        buffer[at + i] = c;
      }
      if (i === piece.length) {
        this.length += i;
        return;
      }
    }
    // Latin-1 pieces take at most two UTF-8 bytes a character, others three.
    if (piece.length * 3 > room) {
      const needed = Buffer.byteLength(piece);
      if (needed > room) this.grow(this.length + needed);
    }
    this.length += this.buffer.write(piece, this.length, 'utf8');
  }

  addBytes(bytes: Uint8Array): void {
    if (bytes.length > this.buffer.length - this.length) this.grow(this.length + bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Room for `n` bytes filled in later (a header); returns where they start. */
  reserve(n: number): number {
    if (n > this.buffer.length - this.length) this.grow(this.length + n);
    const at = this.length;
    this.length += n;
    return at;
  }

  /** `value` as JSON.stringify would write it (`depth` counts how far in it already is). */
  json(value: unknown, depth = 0): void {
    if (typeof value === 'string') {
      this.string(value);
      return;
    }
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
      this.addDigits(value);
      return;
    }
    if (depth < WALK_DEPTH && value !== null && typeof value === 'object') {
      if (Array.isArray(value)) {
        this.array(value, undefined, depth);
        return;
      }
      if (typeof (value as { toJSON?: unknown }).toJSON !== 'function') {
        this.object(value as Record<string, unknown>, depth);
        return;
      }
    }
    this.add(JSON.stringify(value) ?? 'null');
  }

  /**
   * A string as JSON.stringify writes it. One of plain printable ASCII is its own JSON between
   * quotes: copied straight into the buffer rather than made into its JSON first (a thread's texts
   * and a tool's output are most of what is written).
   */
  private string(s: string): void {
    const room = this.buffer.length - this.length;
    if (s.length <= SHORT_PIECE && s.length + 2 <= room) {
      const buffer = this.buffer;
      const at = this.length + 1;
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) break;
        buffer[at + i] = c;
      }
      if (i === s.length) {
        buffer[at - 1] = 0x22;
        buffer[at + i] = 0x22;
        this.length = at + i + 1;
        return;
      }
    } else if (s.length > SHORT_PIECE && !WRITTEN_OTHERWISE.test(s)) {
      if (s.length + 2 > room) this.grow(this.length + s.length + 2);
      const buffer = this.buffer;
      buffer[this.length] = 0x22;
      this.length += 1 + buffer.write(s, this.length + 1, 'latin1');
      buffer[this.length++] = 0x22;
      return;
    }
    this.add(JSON.stringify(s));
  }

  /**
   * A whole number as its decimal digits, as JSON.stringify writes it, without making the string
   * (records are full of times, sizes and counts).
   */
  private addDigits(n: number): void {
    let digits = 1;
    for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    if (digits > this.buffer.length - this.length) this.grow(this.length + digits);
    const buffer = this.buffer;
    let at = this.length + digits;
    this.length = at;
    let rest = n;
    do {
      buffer[--at] = 0x30 + (rest % 10);
      rest = Math.floor(rest / 10);
    } while (rest > 0);
  }

  /**
   * An array's items as JSON.stringify writes them, each with JSON form written by `item`, or by
   * json() when there is none (no callback made per array for the plain case).
   */
  array(items: unknown[], item?: (value: unknown) => void, depth = 0): void {
    this.add('[');
    for (let i = 0; i < items.length; i++) {
      if (i) this.add(',');
      // As JSON.stringify: what has no JSON form is null in an array...
      if (noJsonForm(items[i])) this.add('null');
      else if (item) item(items[i]);
      else this.json(items[i], depth + 1);
    }
    this.add(']');
  }

  /** An object's properties as JSON.stringify writes them; `special` may write some itself. */
  object(value: Record<string, unknown>, depth: number, special?: (key: string, item: unknown) => boolean): void {
    this.add('{');
    let first = true;
    for (const key of Object.keys(value)) {
      const item = value[key];
      // ...and is left out of an object.
      if (noJsonForm(item)) continue;
      if (!first) this.add(',');
      this.add(keyJson(key));
      first = false;
      if (!special?.(key, item)) this.json(item, depth + 1);
    }
    this.add('}');
  }

  private grow(atLeast: number): void {
    const bigger = this.allocate(Math.max(atLeast, this.buffer.length * 2));
    this.buffer.copy(bigger, 0, 0, this.length);
    this.buffer = bigger;
  }
}
