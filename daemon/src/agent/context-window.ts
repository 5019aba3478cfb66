// Keep a conversation within the model's context: estimate tokens (estimateTokens below) and
// shorten the oldest tool results first, visibly, with a marker the model can read; if that is not
// enough, clear the oldest results whole (the daemon's fallback for the API's context management);
// if even that is not enough (one reply read more than the whole window), cut the newest results
// down to what fits, each keeping its beginning and saying how to read less. No message is dropped.
import type { ModelRequest, TextBlock, ToolResultBlock, WireBlock, WireMessage } from './wire.js';

const IMAGE_CHARS = 6_400; // ≈ 1,600 tokens for a typical image
const KEEP_HEAD = 300;
const MIN_SHORTEN = 600;

/*
 * The estimate counts in units of a quarter token. ASCII letters, digits and whitespace are one
 * unit each (prose and code run at about four characters a token); ASCII punctuation and symbols
 * two; a letter or digit that switches between lower case, upper case and digits one more (base64,
 * hex and random ids break into short tokens); and every UTF-16 unit outside ASCII four, a whole
 * token (CJK, emoji at two units, accented letters), which no tokenizer makes much denser. So dense
 * text is not estimated at a quarter of its tokens, while prose comes out about a tenth over
 * chars / 4, code about a fifth, base64 about 1.6 times (closer to what they really are).
 */
const UNITS_PER_TOKEN = 4;
const OTHER = 0;
const LOWER = 1;
const UPPER = 2;
const DIGIT = 3;

function scanUnits(s: string): number {
  let units = 0;
  let prev = OTHER;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let kind: number;
    if (c >= 97 && c <= 122) kind = LOWER;
    else if (c >= 65 && c <= 90) kind = UPPER;
    else if (c >= 48 && c <= 57) kind = DIGIT;
    else {
      units += c >= 0x80 ? 4 : c === 32 || c === 10 || c === 9 || c === 13 ? 1 : 2;
      prev = OTHER;
      continue;
    }
    units += prev === OTHER || prev === kind ? 1 : 2;
    prev = kind;
  }
  return units;
}

/**
 * Units of large texts, kept by the object holding the text (a block, a tool's input): every model
 * call estimates the whole conversation, whose old turns never change, so each is scanned once.
 * Blocks change by getting a new property value (a shortened result gets new content), never by
 * editing one: a kept count is used only while the very same text is there.
 */
const SCAN_KEPT_FROM = 512;
const keptUnits = new WeakMap<object, { text: string; units: number }>();
function textUnits(holder: object, text: string): number {
  if (text.length < SCAN_KEPT_FROM) return scanUnits(text);
  const kept = keptUnits.get(holder);
  if (kept && kept.text === text) return kept.units;
  const units = scanUnits(text);
  keptUnits.set(holder, { text, units });
  return units;
}

/** Units of an object as JSON (tool inputs, server tool blocks, thinking, tool schemas): made once, never changed. */
const jsonKept = new WeakMap<object, number>();
function jsonUnits(value: object): number {
  let n = jsonKept.get(value);
  if (n === undefined) jsonKept.set(value, (n = scanUnits(JSON.stringify(value) ?? '')));
  return n;
}

function blockUnits(b: WireBlock): number {
  switch (b.type) {
    case 'text':
      return textUnits(b, b.text);
    case 'image':
      return IMAGE_CHARS;
    case 'tool_use':
      return (
        b.name.length +
        (b.input && typeof b.input === 'object' ? jsonUnits(b.input) : scanUnits(JSON.stringify(b.input ?? {}))) +
        20
      );
    case 'tool_result':
      return 20 + b.content.reduce((n, c) => n + blockUnits(c), 0);
    default:
      // Server tool blocks (web search / fetch) and thinking: kept whole, counted as their JSON.
      return jsonUnits(b);
  }
}

/** A tool result's size as its shortened marker states it: characters of text, a fixed figure per image. */
function resultChars(b: ToolResultBlock): number {
  return b.content.reduce((n, c) => n + (c.type === 'text' ? c.text.length : IMAGE_CHARS), 0);
}

const resultText = (b: ToolResultBlock): string =>
  b.content
    .filter((c): c is TextBlock => c.type === 'text')
    .map((c) => c.text)
    .join('\n');

/** A message's size in estimate units (a quarter token each). */
export function messageUnits(m: WireMessage): number {
  return 10 + m.content.reduce((n, b) => n + blockUnits(b), 0);
}

export function estimateTokens(req: Pick<ModelRequest, 'system' | 'tools' | 'messages'>): number {
  let units = req.system.reduce((n, b) => n + textUnits(b, b.text), 0);
  for (const t of req.tools)
    units +=
      'input_schema' in t
        ? t.name.length + textUnits(t, t.description) + jsonUnits(t.input_schema)
        : scanUnits(JSON.stringify(t));
  for (const m of req.messages) units += messageUnits(m);
  return Math.ceil(units / UNITS_PER_TOKEN);
}

export const shortenedMarker = (n: number) => `[older output shortened: ${n} chars]`;

/** The end of a result of the newest turn cut to fit: what is left out, and how to read less. */
export const cutMarker = (kept: number, n: number) =>
  `[output shortened to fit the context window: the first ${kept} of ${n} chars are above. Read a smaller part (fs_read with offset and limit, a narrower search or command), or fewer at once.]`;

/**
 * Shorten old tool results (all but those in the last `keepRecent` messages), oldest first, until the
 * estimate fits `limitTokens`; then clear old ones whole; then cut the results of the last
 * `keepRecent` messages, the largest first, down to a common length. Mutates `messages`. Returns
 * whether it fits and whether anything changed. It does not fit only when what is never shortened
 * (the person's words, the model's replies, the system prompt and tools) is too large by itself.
 */
export function fitContext(
  req: Pick<ModelRequest, 'system' | 'tools' | 'messages'>,
  limitTokens: number,
  keepRecent = 2,
): { fits: boolean; changed: boolean; tokens: number } {
  let tokens = estimateTokens(req);
  let changed = false;
  if (tokens <= limitTokens) return { fits: true, changed, tokens };
  const last = req.messages.length - keepRecent;
  for (let i = 0; i < last && tokens > limitTokens; i++) {
    const m = req.messages[i];
    for (const b of m.content) {
      if (b.type !== 'tool_result' || tokens <= limitTokens) continue;
      const chars = resultChars(b);
      if (chars < MIN_SHORTEN) continue;
      const head = resultText(b).slice(0, KEEP_HEAD);
      const before = blockUnits(b);
      b.content = [{ type: 'text', text: `${head}\n${shortenedMarker(chars)}` }];
      tokens -= Math.floor((before - blockUnits(b)) / UNITS_PER_TOKEN);
      changed = true;
    }
  }
  tokens = estimateTokens(req);
  // Still too long (a very long task: hundreds of shortened results add up): clear old results
  // entirely, oldest first, as the API's clear_tool_uses edit would. The tool_use/tool_result
  // pairs stay, so the conversation stays valid.
  for (let i = 0; i < last && tokens > limitTokens; i++) {
    for (const b of req.messages[i].content) {
      if (b.type !== 'tool_result' || tokens <= limitTokens) continue;
      const before = blockUnits(b);
      if (before <= CLEARED.length + 40) continue;
      b.content = [{ type: 'text', text: CLEARED }];
      tokens -= Math.floor((before - blockUnits(b)) / UNITS_PER_TOKEN);
      changed = true;
    }
  }
  tokens = estimateTokens(req);
  // Still too long: the newest turn's results alone are more than the window (one reply of many
  // large reads). Left whole, no request of this thread would fit again.
  if (tokens > limitTokens && cutNewest(req, Math.max(0, last), limitTokens)) {
    changed = true;
    tokens = estimateTokens(req);
  }
  return { fits: tokens <= limitTokens, changed, tokens };
}

interface Cuttable {
  block: ToolResultBlock;
  text: string;
  chars: number;
  units: number;
  /** Units per character of its text: what a head of it is estimated at. */
  density: number;
}

/**
 * Cut the tool results of messages[from…] down to one common length, so together they fit; each
 * keeps its beginning (at least KEEP_HEAD characters, where a connector's untrusted-output mark is)
 * and ends with cutMarker. Returns whether anything was cut.
 */
function cutNewest(req: Pick<ModelRequest, 'system' | 'tools' | 'messages'>, from: number, limit: number): boolean {
  const cuttable: Cuttable[] = [];
  for (let i = from; i < req.messages.length; i++)
    for (const block of req.messages[i].content) {
      if (block.type !== 'tool_result') continue;
      const chars = resultChars(block);
      if (chars < MIN_SHORTEN) continue;
      const text = resultText(block);
      const units = blockUnits(block);
      cuttable.push({
        block,
        text,
        chars,
        units,
        density: scanUnits(text.slice(0, 4096)) / Math.max(1, Math.min(4096, text.length)),
      });
    }
  if (!cuttable.length) return false;
  const whole = estimateTokens(req) * UNITS_PER_TOKEN - cuttable.reduce((n, c) => n + c.units, 0);
  const markerUnits = scanUnits(cutMarker(1_000_000, 1_000_000)) + 30;
  const unitsAt = (c: Cuttable, cap: number) =>
    cap >= c.text.length && c.chars === c.text.length
      ? c.units
      : 20 + Math.ceil(c.density * Math.min(cap, c.text.length)) + markerUnits;
  let room = limit * UNITS_PER_TOKEN - whole;
  let cut = false;
  // The density of a head is a guess (a result can start in ASCII and go on in CJK): measured after
  // cutting, and cut again with less room for what the guess missed.
  for (let round = 0; round < 4; round++) {
    // The longest common length whose results fit the room, by halving.
    let low = KEEP_HEAD;
    let high = Math.max(...cuttable.map((c) => c.text.length));
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (cuttable.reduce((n, c) => n + unitsAt(c, mid), 0) <= room) low = mid;
      else high = mid - 1;
    }
    for (const c of cuttable) {
      if (low >= c.text.length && c.chars === c.text.length) continue; // fits whole
      c.block.content = [
        { type: 'text', text: `${c.text.slice(0, low)}\n${cutMarker(Math.min(low, c.text.length), c.chars)}` },
      ];
      cut = true;
    }
    const over = estimateTokens(req) * UNITS_PER_TOKEN - limit * UNITS_PER_TOKEN;
    if (over <= 0 || low <= KEEP_HEAD) break;
    room -= over;
  }
  return cut;
}

export const CLEARED = '[older output cleared to keep the conversation within the context window]';

/** The API wants alternating roles: merge neighbours of the same role (a failed task's start message and a follow-up). */
export function normalizeMessages(messages: WireMessage[]): WireMessage[] {
  const out: WireMessage[] = [];
  for (const m of messages) {
    const prev = out.at(-1);
    if (prev && prev.role === m.role) out[out.length - 1] = { role: m.role, content: [...prev.content, ...m.content] };
    else out.push({ role: m.role, content: [...m.content] });
  }
  return out;
}
