// Keep a conversation within the model's context: estimate tokens (estimateTokens below) and
// shorten the oldest tool results first, visibly, with a marker the model can read; if that is not
// enough, clear the oldest results whole (the daemon's fallback for the API's context management);
// if even that is not enough (one reply read more than the whole window), cut the newest results
// down to what fits, each keeping its beginning and saying how to read less. No message is dropped.
import type {
  ImageBlock,
  ModelRequest,
  ServerBlock,
  TextBlock,
  ToolResultBlock,
  ToolUseBlock,
  WireBlock,
  WireMessage,
} from './wire.js';

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
const PREFIX_STEP = 512;
const OTHER = 0;
const LOWER = 1;
const UPPER = 2;
const DIGIT = 3;

/** `marks`, when given, gets the units before every PREFIX_STEP-th character (prefixUnits). */
function scanUnits(s: string, marks?: Float64Array): number {
  let units = 0;
  let prev = OTHER;
  for (let i = 0; i < s.length; i++) {
    if (marks && i % PREFIX_STEP === 0) marks[i / PREFIX_STEP] = units;
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
  if (marks && s.length % PREFIX_STEP === 0) marks[s.length / PREFIX_STEP] = units;
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
export const cutMarker = (kept: number, n: number, imagesLeftOut = 0, images = 0) => {
  const parts = [
    ...(kept < n ? [`the first ${kept} of ${n} chars are above`] : []),
    ...(imagesLeftOut ? [`${imagesLeftOut} of ${images} ${images === 1 ? 'image' : 'images'} left out`] : []),
  ];
  return `[output shortened to fit the context window: ${parts.join('; ')}. Read a smaller part (fs_read with offset and limit, a narrower search or command), or fewer at once.]`;
};

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
  // Still too long (a long writing or browsing task): the model's own old tool inputs (a written
  // file's content) and old web pages and searches are never tool results; shorten those too.
  for (let i = 0; i < last && tokens > limitTokens; i++) {
    if (shortenOldBlocks(req.messages[i])) {
      changed = true;
      tokens = estimateTokens(req);
    }
  }
  // Still too long: the newest turn's results alone are more than the window (one reply of many
  // large reads). Left whole, no request of this thread would fit again.
  if (tokens > limitTokens && cutNewest(req, Math.max(0, last), limitTokens)) {
    changed = true;
    tokens = estimateTokens(req);
  }
  // Last: the newest reply's own large inputs, of calls already answered (never one still to run).
  if (tokens > limitTokens && shortenAnsweredInputs(req.messages, Math.max(0, last))) {
    changed = true;
    tokens = estimateTokens(req);
  }
  return { fits: tokens <= limitTokens, changed, tokens };
}

export const inputShortenedMarker = (n: number) => `[older input shortened: ${n} chars]`;
export const pageShortenedMarker = (n: number) => `[older page shortened: ${n} chars; fetch it again if needed]`;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * `value` with every string longer than MIN_SHORTEN cut to its head and a marker: a new object
 * where anything changed (so the estimate's per-object count is made again), the same one otherwise.
 */
function shortenStrings(value: unknown): unknown {
  if (typeof value === 'string')
    return value.length < MIN_SHORTEN ? value : `${value.slice(0, KEEP_HEAD)}\n${inputShortenedMarker(value.length)}`;
  if (!isObject(value)) return value;
  let out: Record<string, unknown> | unknown[] | undefined;
  for (const [k, v] of Object.entries(value)) {
    const short = shortenStrings(v);
    if (short === v) continue;
    out ??= Array.isArray(value) ? [...value] : { ...value };
    (out as Record<string, unknown>)[k] = short;
  }
  return out ?? value;
}

/** A tool_use with its large string inputs shortened; the input stays an object, as the API wants. */
function shortenInput(b: ToolUseBlock): boolean {
  if (!isObject(b.input)) return false;
  const input = shortenStrings(b.input);
  if (input === b.input) return false;
  b.input = input;
  return true;
}

/**
 * A web result block shortened in a form the API still takes: a fetched page keeps the head of its
 * text (a PDF becomes a short text document), a search keeps no results (their encrypted content
 * cannot be cut). A new block, so the estimate counts it again; undefined when there is nothing to cut.
 */
function shortenServerResult(b: ServerBlock): ServerBlock | undefined {
  if (b.type === 'web_search_tool_result') {
    if (!Array.isArray(b.content) || !b.content.length || jsonUnits(b) < MIN_SHORTEN * 2) return undefined;
    return { ...b, content: [] };
  }
  if (b.type !== 'web_fetch_tool_result' || !isObject(b.content)) return undefined;
  const doc = b.content.content;
  if (!isObject(doc) || !isObject(doc.source)) return undefined;
  const data = doc.source.data;
  if (typeof data !== 'string' || data.length < MIN_SHORTEN) return undefined;
  const text = doc.source.type === 'text' ? `${data.slice(0, KEEP_HEAD)}\n` : '';
  const source = { type: 'text', media_type: 'text/plain', data: `${text}${pageShortenedMarker(data.length)}` };
  return { ...b, content: { ...b.content, content: { ...doc, source } } };
}

/**
 * Shorten an old message's large tool inputs and web results in place. Thinking blocks are never
 * touched (the API checks their signatures). Citations of the message's text point into the
 * results, so they go when a result is shortened: the text stays, a stale citation is refused.
 */
function shortenOldBlocks(m: WireMessage): boolean {
  let changed = false;
  let resultShortened = false;
  m.content.forEach((b, j) => {
    if (b.type === 'tool_use') changed = shortenInput(b) || changed;
    else if (b.type === 'web_search_tool_result' || b.type === 'web_fetch_tool_result') {
      const short = shortenServerResult(b as ServerBlock);
      if (!short) return;
      m.content[j] = short;
      changed = resultShortened = true;
    }
  });
  if (resultShortened) for (const b of m.content) if (b.type === 'text' && b.citations) delete b.citations;
  return changed;
}

/** Shorten the large inputs of messages[from…]'s tool calls that a tool_result already answers. */
function shortenAnsweredInputs(messages: WireMessage[], from: number): boolean {
  const answered = new Set<string>();
  for (const m of messages) for (const b of m.content) if (b.type === 'tool_result') answered.add(b.tool_use_id);
  let changed = false;
  for (let i = from; i < messages.length; i++)
    for (const b of messages[i].content)
      if (b.type === 'tool_use' && answered.has(b.id)) changed = shortenInput(b) || changed;
  return changed;
}

/** Quarter-token units of a text's prefixes, from one scan: exact at every PREFIX_STEP chars, near it between. */
function prefixUnits(text: string): (length: number) => number {
  if (text.length <= PREFIX_STEP * 4) return (length) => scanUnits(text.slice(0, length));
  const marks = new Float64Array(Math.floor(text.length / PREFIX_STEP) + 1);
  scanUnits(text, marks);
  return (length) => {
    const k = Math.min(marks.length - 1, Math.floor(length / PREFIX_STEP));
    return marks[k] + scanUnits(text.slice(k * PREFIX_STEP, length));
  };
}

interface Part {
  block: TextBlock | ImageBlock;
  /** For text: units of its first n characters. */
  unitsOf?: (n: number) => number;
}

interface Cuttable {
  block: ToolResultBlock;
  parts: Part[];
  units: number;
  textChars: number;
  images: number;
}

/** A cut of one result: its parts in order, text up to `cap` characters in all, an image counting IMAGE_CHARS of it. */
interface Cut {
  content: Array<TextBlock | ImageBlock>;
  units: number;
  keptChars: number;
  /** Images left out, by their place in `parts`. */
  dropped: number[];
}

function cutTo(c: Cuttable, cap: number, keepImages = new Set<number>()): Cut {
  const content: Array<TextBlock | ImageBlock> = [];
  const dropped: number[] = [];
  let left = cap;
  let keptChars = 0;
  let units = 20;
  c.parts.forEach((p, k) => {
    if (p.block.type === 'image') {
      if (left >= IMAGE_CHARS || keepImages.has(k)) {
        content.push(p.block);
        units += IMAGE_CHARS;
        if (!keepImages.has(k)) left -= IMAGE_CHARS;
      } else dropped.push(k);
      return;
    }
    const n = Math.min(left, p.block.text.length);
    if (n <= 0) return;
    left -= n;
    keptChars += n;
    content.push(n === p.block.text.length ? p.block : { type: 'text', text: p.block.text.slice(0, n) });
    units += p.unitsOf?.(n) ?? 0;
  });
  return { content, units, keptChars, dropped };
}

const cutWhole = (c: Cuttable, cut: Cut) => cut.keptChars === c.textChars && cut.dropped.length === 0;

/**
 * Cut the tool results of messages[from…] down to one common length, so together they fit; each
 * keeps its beginning (at least KEEP_HEAD characters, where a connector's untrusted-output mark is)
 * and ends with cutMarker. Images count as IMAGE_CHARS of that length and are kept while they fit,
 * the first ones first. Small results are cut too when the common length falls below them.
 * Returns whether anything was cut.
 */
function cutNewest(req: Pick<ModelRequest, 'system' | 'tools' | 'messages'>, from: number, limit: number): boolean {
  const cuttable: Cuttable[] = [];
  for (let i = from; i < req.messages.length; i++)
    for (const block of req.messages[i].content) {
      if (block.type !== 'tool_result') continue;
      const parts: Part[] = block.content.map((p) =>
        p.type === 'text' ? { block: p, unitsOf: prefixUnits(p.text) } : { block: p },
      );
      const textChars = block.content.reduce((n, p) => n + (p.type === 'text' ? p.text.length : 0), 0);
      const images = block.content.length - block.content.filter((p) => p.type === 'text').length;
      if (textChars <= KEEP_HEAD && !images) continue;
      cuttable.push({ block, parts, units: blockUnits(block), textChars, images });
    }
  if (!cuttable.length) return false;
  const whole = estimateTokens(req) * UNITS_PER_TOKEN - cuttable.reduce((n, c) => n + c.units, 0);
  const markerUnits = scanUnits(cutMarker(1_000_000, 1_000_000, 1_000, 1_000)) + 4;
  /** A result's units at a common length: whole when that keeps all of it, else cut with the marker. */
  const unitsAt = (c: Cuttable, cap: number) => {
    const cut = cutTo(c, cap);
    return cutWhole(c, cut) ? c.units : Math.min(c.units, cut.units + markerUnits);
  };
  const longest = Math.max(...cuttable.map((c) => c.textChars + c.images * IMAGE_CHARS));
  // A little under the limit: the request adds the web tools and their note after the fit.
  const target = Math.floor(limit * 0.99) * UNITS_PER_TOKEN;
  let room = target - whole;
  let cut = false;
  // The estimate of each cut is measured on the text kept, so one round is near exact; a few more
  // rounds take off what the marker and rounding missed.
  for (let round = 0; round < 4; round++) {
    // The longest common length whose results fit the room, by halving.
    let low = KEEP_HEAD;
    let high = longest;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (cuttable.reduce((n, c) => n + unitsAt(c, mid), 0) <= room) low = mid;
      else high = mid - 1;
    }
    const cuts = cuttable.map((c) => cutTo(c, low));
    const costOf = (c: Cuttable, cut: Cut) => (cutWhole(c, cut) ? c.units : cut.units + markerUnits);
    // What is left of the room keeps images the common length left out, the first ones first.
    let spare = room - cuttable.reduce((n, c, k) => n + costOf(c, cuts[k]), 0);
    cuttable.forEach((c, k) => {
      const keep = new Set<number>();
      for (const image of cuts[k].dropped) {
        if (spare < IMAGE_CHARS - markerUnits) break;
        const withImage = cutTo(c, low, new Set([...keep, image]));
        const more = costOf(c, withImage) - costOf(c, cuts[k]);
        if (more > spare) break;
        keep.add(image);
        spare -= more;
        cuts[k] = withImage;
      }
    });
    cuttable.forEach((c, k) => {
      const { content, keptChars, dropped } = cuts[k];
      if (cutWhole(c, cuts[k])) {
        c.block.content = c.parts.map((p) => p.block);
        return;
      }
      const marker = cutMarker(keptChars, c.textChars, dropped.length, c.images);
      const lastPart = content.at(-1);
      // Appended to a text cut short; after a whole block (a connector's mark), a block of its own.
      if (lastPart?.type === 'text' && !c.parts.some((p) => p.block === lastPart))
        content[content.length - 1] = { type: 'text', text: `${lastPart.text}\n${marker}` };
      else content.push({ type: 'text', text: marker });
      c.block.content = content;
      cut = true;
    });
    const over = estimateTokens(req) * UNITS_PER_TOKEN - target;
    if (over <= 0) break;
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
