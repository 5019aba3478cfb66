// Keep a conversation within the model's context: estimate tokens (context-estimate.ts) and
// shorten the oldest tool results first, visibly, with a marker the model can read; if that is not
// enough, clear the oldest results whole (the daemon's fallback for the API's context management);
// if even that is not enough (one reply read more than the whole window), cut the newest results
// down to what fits, each keeping its beginning and saying how to read less (context-cut.ts). No
// message is dropped.
import { cutNewest, KEEP_HEAD } from './context-cut.js';
import {
  blockUnits,
  estimateTokens,
  estimateUnits,
  IMAGE_CHARS,
  jsonUnits,
  messageUnits,
  UNITS_PER_TOKEN,
} from './context-estimate.js';
import type { ModelRequest, ServerBlock, TextBlock, ToolResultBlock, ToolUseBlock, WireMessage } from './wire.js';

export { estimateTokens };

const MIN_SHORTEN = 600;

/** A tool result's size as its shortened marker states it: characters of text, a fixed figure per image. */
function resultChars(b: ToolResultBlock): number {
  return b.content.reduce((n, c) => n + (c.type === 'text' ? c.text.length : IMAGE_CHARS), 0);
}

const resultText = (b: ToolResultBlock): string =>
  b.content
    .filter((c): c is TextBlock => c.type === 'text')
    .map((c) => c.text)
    .join('\n');

export const shortenedMarker = (n: number) => `[older output shortened: ${n} chars]`;

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
  // Still too long (a long writing or browsing task): the model's own old tool inputs (a written
  // file's content) and old web pages and searches are never tool results; shorten those too.
  // Counted by what each message gives back, not by estimating the whole request again each time.
  let units = estimateUnits(req);
  for (let i = 0; i < last && Math.ceil(units / UNITS_PER_TOKEN) > limitTokens; i++) {
    const m = req.messages[i];
    const before = messageUnits(m);
    if (shortenOldBlocks(m)) {
      changed = true;
      units += messageUnits(m) - before;
    }
  }
  tokens = Math.ceil(units / UNITS_PER_TOKEN);
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
