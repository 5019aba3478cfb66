// A frame's shape, checked before it is parsed: a 1 MiB frame of tens of thousands of keys, or of
// brackets nested hundreds of thousands deep, costs JSON.parse and zod a third of a second each,
// the event loop stalled for every device meanwhile. One linear pass over the text refuses such a
// frame first, touching only its structure: runs of other characters and the bodies of strings
// are skipped by native searches, so a long string is one value, as cheap as it is to parse.

/**
 * How deep a frame may nest objects and arrays. The deepest command (push.subscribe's
 * subscription.keys, a schedule's when) nests 3 deep.
 */
export const MAX_FRAME_DEPTH = 32;

/**
 * How many `{ [ , :` and strings a frame may hold. The largest command (thread.create with 20
 * attachment ids, or schedule.update with every field) holds about 60.
 */
export const MAX_FRAME_TOKENS = 10_000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
/** A run of characters the pass does not count (whitespace, numbers, true/false/null): skipped at once. */
const PLAIN = /[^"{}[\],:]*/y;
/** What follows the key "id" of a command: a colon and the id (the shape CommandId allows). */
const ID_VALUE = /^[ \t\n\r]*:[ \t\n\r]*"([A-Za-z0-9_-]{8,64})"/;

export interface FrameShape {
  /** Why the frame is refused unparsed, a phrase to follow "The frame was not read: "; none when it may be parsed. */
  problem?: string;
  /** Its top-level "id", when the pass met one of an id's shape before stopping: the refusal names it. */
  id?: string;
}

/**
 * The frame's shape. The work is bounded by the bounds themselves: every structural character is
 * counted (an unmatched close bracket ends the pass: no JSON has one), and every string too.
 */
export function frameShape(text: string): FrameShape {
  let depth = 0;
  let tokens = 0;
  let id: string | undefined;
  // The last character counted was `{` or `,`: a string next, at depth 1, is a top-level key.
  let keyNext = false;
  let i = 0;
  for (;;) {
    // Checked first too: past the text's end the search would fail and start again from 0.
    if (i >= text.length) return { id };
    PLAIN.lastIndex = i;
    PLAIN.test(text);
    i = PLAIN.lastIndex;
    if (i >= text.length) return { id };
    const c = text.charCodeAt(i);
    if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (--depth < 0) return { problem: 'it is not valid JSON (it closes a bracket it never opened)', id };
      keyNext = false;
      i++;
      continue;
    }
    if (++tokens > MAX_FRAME_TOKENS)
      return {
        problem: `it holds more than ${MAX_FRAME_TOKENS.toLocaleString('en-US')} fields and values, far past any command (see docs/protocol.md)`,
        id,
      };
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (keyNext && depth === 1 && id === undefined && end === i + 3 && text.startsWith('id', i + 1))
        id = ID_VALUE.exec(text.slice(end + 1, end + 80))?.[1];
      keyNext = false;
      i = end + 1;
      continue;
    }
    if ((c === OPEN_BRACE || c === OPEN_BRACKET) && ++depth > MAX_FRAME_DEPTH)
      return {
        problem: `it nests objects and arrays more than ${MAX_FRAME_DEPTH} deep, far past any command (see docs/protocol.md)`,
        id,
      };
    keyNext = c === OPEN_BRACE || c === COMMA;
    i++;
  }
}

/**
 * The index of the quote that closes the string opened at `open` (the text's end if none does):
 * the next quote not escaped, that is not preceded by an odd run of backslashes. indexOf skips a
 * string's body natively.
 */
function stringEnd(text: string, open: number): number {
  let at = open;
  for (;;) {
    at = text.indexOf('"', at + 1);
    if (at < 0) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
}
