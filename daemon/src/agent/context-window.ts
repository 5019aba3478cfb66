// Keep a conversation within the model's context: estimate tokens (≈ chars / 4) and shorten the
// oldest tool results first, visibly, with a marker the model can read; if that is not enough,
// clear the oldest results whole (the daemon's fallback for the API's context management).
// No message is dropped.
import type { ModelRequest, WireBlock, WireMessage } from './wire.js';

const IMAGE_CHARS = 6_400; // ≈ 1,600 tokens for a typical image
const KEEP_HEAD = 300;
const MIN_SHORTEN = 600;

/** Length as JSON of objects never changed once made (tool inputs, server tool blocks): every model
 * call estimates the whole conversation, whose tool calls would otherwise be stringified each time. */
const jsonChars = new WeakMap<object, number>();
function jsonLength(value: object): number {
  let n = jsonChars.get(value);
  if (n === undefined) jsonChars.set(value, (n = JSON.stringify(value).length));
  return n;
}

function blockChars(b: WireBlock): number {
  switch (b.type) {
    case 'text':
      return b.text.length;
    case 'image':
      return IMAGE_CHARS;
    case 'tool_use':
      return (
        b.name.length +
        (b.input && typeof b.input === 'object' ? jsonLength(b.input) : JSON.stringify(b.input ?? {}).length) +
        20
      );
    case 'tool_result':
      return 20 + b.content.reduce((n, c) => n + blockChars(c), 0);
    default:
      // Server tool blocks (web search / fetch): kept whole, counted as their JSON.
      return jsonLength(b);
  }
}

export function messageChars(m: WireMessage): number {
  return 10 + m.content.reduce((n, b) => n + blockChars(b), 0);
}

export function estimateTokens(req: Pick<ModelRequest, 'system' | 'tools' | 'messages'>): number {
  let chars = req.system.reduce((n, b) => n + b.text.length, 0);
  for (const t of req.tools)
    chars +=
      'input_schema' in t
        ? t.name.length + t.description.length + jsonLength(t.input_schema)
        : JSON.stringify(t).length;
  for (const m of req.messages) chars += messageChars(m);
  return Math.ceil(chars / 4);
}

export const shortenedMarker = (n: number) => `[older output shortened: ${n} chars]`;

/**
 * Shorten old tool results (all but those in the last `keepRecent` messages), oldest first, until the
 * estimate fits `limitTokens`. Mutates `messages`. Returns whether it fits and whether anything changed.
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
      const chars = b.content.reduce((n, c) => n + blockChars(c), 0);
      if (chars < MIN_SHORTEN) continue;
      const head = b.content
        .filter((c) => c.type === 'text')
        .map((c) => (c as { text: string }).text)
        .join('\n')
        .slice(0, KEEP_HEAD);
      const before = blockChars(b);
      b.content = [{ type: 'text', text: `${head}\n${shortenedMarker(chars)}` }];
      tokens -= Math.floor((before - blockChars(b)) / 4);
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
      const before = blockChars(b);
      if (before <= CLEARED.length + 40) continue;
      b.content = [{ type: 'text', text: CLEARED }];
      tokens -= Math.floor((before - blockChars(b)) / 4);
      changed = true;
    }
  }
  tokens = estimateTokens(req);
  return { fits: tokens <= limitTokens, changed, tokens };
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
