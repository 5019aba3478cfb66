// Small helpers shared by the tools: canonical hashing, globs, output capping, errors for the model.
import crypto from 'node:crypto';

/** JSON with object keys sorted at every level, so equal actions hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export const sha256 = (data: string | Buffer): string => crypto.createHash('sha256').update(data).digest('hex');

export const actionHash = (action: unknown): string => sha256(canonicalJson(action));

/** A refusal or failure whose message is written for the model (and shown on the phone). */
export class ToolError extends Error {}

/** Keeps the first and last `limit/2` bytes of a stream and counts what it dropped in between. */
export class HeadTailBuffer {
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  total = 0;
  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    const half = Math.floor(this.limit / 2);
    if (this.headBytes < half) {
      const take = Math.min(half - this.headBytes, chunk.length);
      this.head.push(chunk.subarray(0, take));
      this.headBytes += take;
      chunk = chunk.subarray(take);
    }
    if (!chunk.length) return;
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    const tailLimit = this.limit - half;
    while (this.tailBytes - (this.tail[0]?.length ?? 0) >= tailLimit && this.tail.length > 1) {
      this.tailBytes -= this.tail.shift()!.length;
    }
  }

  get truncated(): boolean {
    return this.total > this.limit;
  }

  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    let tail = Buffer.concat(this.tail);
    const tailLimit = this.limit - Math.floor(this.limit / 2);
    if (tail.length > tailLimit) tail = tail.subarray(tail.length - tailLimit);
    const omitted = this.total - this.headBytes - tail.length;
    if (omitted <= 0) return head + tail.toString('utf8');
    return `${head}\n[… ${omitted.toLocaleString('en-US')} bytes of output omitted; showing the first and last parts …]\n${tail.toString('utf8')}`;
  }
}

/** Cut a long string for a one-line label a person reads (a step row): an ellipsis, no count. */
export function clipLine(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, cutAt(one, max - 1))}…`;
}

/** Cut a long string for display, saying so. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const at = cutAt(text, max);
  return `${text.slice(0, at)}… [${(text.length - at).toLocaleString('en-US')} more characters]`;
}

const WORD_CHAR = /[A-Za-z0-9_\-+=]/;
/**
 * Where to cut `text` at about `max`: before a long word (a key, a token) the cut would split. Known
 * secrets are redacted after a summary is made, and a cut secret is no longer recognised: its first
 * part would be shown.
 */
function cutAt(text: string, max: number): number {
  if (!WORD_CHAR.test(text[max] ?? '')) return max;
  let start = max;
  while (start > 0 && WORD_CHAR.test(text[start - 1])) start--;
  return max - start >= 8 ? start : max;
}

export const fmt = (n: number): string => n.toLocaleString('en-US');

/** Quote an argv for display ("python 'my file.py'"). */
export function shellQuote(argv: string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_\-./=:@%+,]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
