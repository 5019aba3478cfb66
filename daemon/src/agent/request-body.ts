// The model request's JSON (the conversation so far, often near a megabyte) written into a kept
// buffer with util/json-writer.ts, without one large string per turn (see there why that matters).
import { JsonWriter } from '../util/json-writer.js';

const MIN_BUFFER = 64 * 1024;
const SPARE_KEPT_MS = 30_000;
// Tasks in parallel encode their requests at once (32 tiny tasks: 32 buffers before the first is
// written out), and each new buffer is fresh pages from the system (above the mmap threshold): so
// one buffer of any size is kept (a long conversation's, near a megabyte, serves its next turn),
// and more up to a count and a total size, for 30 s after the last comes back.
const SPARES_KEPT = 32;
const SPARE_BYTES_KEPT = 2 * 1024 * 1024;

const spares: Buffer[] = [];
let spareBytes = 0;
let spareTimer: NodeJS.Timeout | undefined;
/** Buffers handed out and not back yet: only those come back to the pool, and once. */
const out = new WeakSet<ArrayBufferLike>();

function newBuffer(capacity: number): Buffer {
  const buffer = Buffer.allocUnsafeSlow(Math.max(MIN_BUFFER, capacity));
  out.add(buffer.buffer);
  return buffer;
}

/** A writer on a kept buffer when there is one, else on a new one. */
function pooledWriter(): JsonWriter {
  const kept = spares.pop();
  if (!kept) return new JsonWriter(newBuffer(0), newBuffer);
  spareBytes -= kept.length;
  out.add(kept.buffer);
  return new JsonWriter(kept, newBuffer);
}

// A conversation's blocks (a message's content blocks, the tools, the system prompt) are the same
// objects turn after turn (and wire-tools.ts keeps the tools the same from task to task): their
// bytes are kept, so a turn encodes only what is new.
// A kept encoding is used only while the block's own properties are still the very same values;
// blocks are changed by replacing a property (context-window.ts shortens an old tool result by
// giving it new content), never by editing what a property holds.
// Message blocks are many and mostly small: only large ones are kept. Tools and system blocks are
// few and the same in every request of every task: all are kept.
const KEEP_MESSAGE_BLOCK_BYTES = 1024;
interface KeptBlock {
  bytes: Buffer;
  keys: string[];
  values: unknown[];
}
const keptBlocks = new WeakMap<object, KeptBlock>();

function stillSame(block: Record<string, unknown>, kept: KeptBlock): boolean {
  let n = 0;
  for (const key in block) {
    if (key !== kept.keys[n] || block[key] !== kept.values[n]) return false;
    n++;
  }
  return n === kept.keys.length;
}

function writeBlock(w: JsonWriter, block: unknown, depth: number, keepFrom: number): void {
  if (
    block === null ||
    typeof block !== 'object' ||
    Array.isArray(block) ||
    Object.getPrototypeOf(block) !== Object.prototype
  ) {
    w.json(block, depth);
    return;
  }
  const record = block as Record<string, unknown>;
  const kept = keptBlocks.get(record);
  if (kept && stillSame(record, kept)) {
    w.addBytes(kept.bytes);
    return;
  }
  const start = w.length;
  w.json(record, depth);
  if (w.length - start < keepFrom) return;
  const keys = Object.keys(record);
  keptBlocks.set(record, {
    bytes: Buffer.from(w.buffer.subarray(start, w.length)),
    keys,
    values: keys.map((k) => record[k]),
  });
}

function writeBlocks(w: JsonWriter, blocks: unknown, depth: number, keepFrom: number): void {
  if (Array.isArray(blocks)) w.array(blocks, (block) => writeBlock(w, block, depth + 1, keepFrom));
  else w.json(blocks, depth);
}

/**
 * A Messages API request as JSON bytes (exactly JSON.stringify's), with the blocks of its messages,
 * its tools and its system prompt kept encoded from turn to turn, in a pooled buffer that goes back
 * to the pool with `releaseJsonBody` once written (one never released is left to the collector).
 */
export function encodeModelRequest(request: Record<string, unknown>): Buffer {
  const w = pooledWriter();
  if (typeof request.toJSON === 'function') w.json(request, 0);
  else
    w.object(request, 0, (key, item) => {
      if (key === 'tools' || key === 'system') {
        writeBlocks(w, item, 1, 0);
        return true;
      }
      if (key !== 'messages' || !Array.isArray(item)) return false;
      w.array(item, (message) => {
        if (
          message === null ||
          typeof message !== 'object' ||
          typeof (message as { toJSON?: unknown }).toJSON === 'function'
        )
          w.json(message, 2);
        else
          w.object(message as Record<string, unknown>, 2, (messageKey, content) => {
            if (messageKey !== 'content') return false;
            writeBlocks(w, content, 3, KEEP_MESSAGE_BLOCK_BYTES);
            return true;
          });
      });
      return true;
    });
  return w.buffer.subarray(0, w.length);
}

/** The bytes of an `encodeModelRequest` body were written out: its buffer may serve a next request. */
export function releaseJsonBody(bytes: Uint8Array): void {
  if (!out.delete(bytes.buffer)) return;
  const size = bytes.buffer.byteLength;
  if (spares.length && (spares.length >= SPARES_KEPT || spareBytes + size > SPARE_BYTES_KEPT)) return;
  spares.push(Buffer.from(bytes.buffer, 0, size));
  spareBytes += size;
  clearTimeout(spareTimer);
  spareTimer = setTimeout(() => {
    spares.length = 0;
    spareBytes = 0;
  }, SPARE_KEPT_MS).unref();
}
