// How many tokens a request is, estimated without a tokenizer (see the comment below), in units of a
// quarter token; counts of large texts and of JSON are kept per block, so a long conversation's old
// turns are scanned once. Used to fit a conversation into the context window (context-window.ts)
// and to bound what a call may cost (call-check.ts).
import type { ModelRequest, WireBlock, WireMessage } from './wire.js';

export const IMAGE_CHARS = 6_400; // ≈ 1,600 tokens for a typical image

/*
 * The estimate counts in units of a quarter token. ASCII letters, digits and whitespace are one
 * unit each (prose and code run at about four characters a token); ASCII punctuation and symbols
 * two; a letter or digit that switches between lower case, upper case and digits one more (base64,
 * hex and random ids break into short tokens); and every UTF-16 unit outside ASCII four, a whole
 * token (CJK, emoji at two units, accented letters), which no tokenizer makes much denser. So dense
 * text is not estimated at a quarter of its tokens, while prose comes out about a tenth over
 * chars / 4, code about a fifth, base64 about 1.6 times (closer to what they really are).
 */
export const UNITS_PER_TOKEN = 4;
const PREFIX_STEP = 512;
const OTHER = 0;
const LOWER = 1;
const UPPER = 2;
const DIGIT = 3;

/** `marks`, when given, gets the units before every PREFIX_STEP-th character (prefixUnits). */
export function scanUnits(s: string, marks?: Float64Array): number {
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
 * Units of texts, kept by the object holding the text (a block, a tool's input): every model call
 * estimates the whole conversation, whose old turns never change, so each is scanned once. Blocks
 * change by getting a new property value (a shortened result gets new content), never by editing
 * one: a kept count is used only while the very same text is there. Short texts are kept too: a
 * long task's hundreds of shortened results and short replies, scanned again on every call, made
 * its late turns dearer than its first ones.
 */
const SCAN_KEPT_FROM = 64;
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
export function jsonUnits(value: object): number {
  let n = jsonKept.get(value);
  if (n === undefined) jsonKept.set(value, (n = scanUnits(JSON.stringify(value) ?? '')));
  return n;
}

export function blockUnits(b: WireBlock): number {
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

/** A message's size in estimate units (a quarter token each). */
export function messageUnits(m: WireMessage): number {
  return 10 + m.content.reduce((n, b) => n + blockUnits(b), 0);
}

/** A request's size in estimate units (a quarter token each). */
export function estimateUnits(req: Pick<ModelRequest, 'system' | 'tools' | 'messages'>): number {
  let units = req.system.reduce((n, b) => n + textUnits(b, b.text), 0);
  for (const t of req.tools)
    units +=
      'input_schema' in t
        ? t.name.length + textUnits(t, t.description) + jsonUnits(t.input_schema)
        : scanUnits(JSON.stringify(t));
  for (const m of req.messages) units += messageUnits(m);
  return units;
}

export function estimateTokens(req: Pick<ModelRequest, 'system' | 'tools' | 'messages'>): number {
  return Math.ceil(estimateUnits(req) / UNITS_PER_TOKEN);
}

/** Quarter-token units of a text's prefixes, from one scan: exact at every PREFIX_STEP chars, near it between. */
export function prefixUnits(text: string): (length: number) => number {
  if (text.length <= PREFIX_STEP * 4) return (length) => scanUnits(text.slice(0, length));
  const marks = new Float64Array(Math.floor(text.length / PREFIX_STEP) + 1);
  scanUnits(text, marks);
  return (length) => {
    const k = Math.min(marks.length - 1, Math.floor(length / PREFIX_STEP));
    return marks[k] + scanUnits(text.slice(k * PREFIX_STEP, length));
  };
}
