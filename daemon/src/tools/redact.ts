// Known secrets never leave in a tool's output (stored, replayed to phones, sent to the model).
// Secrets the daemon holds in clear (API key, push signing key, connector secrets) are matched as
// text; device tokens are stored only as hashes, so every token-shaped window of the output that
// could be a token is hashed and compared with the paired devices' hashes. Secrets in clear are
// also caught escaped (JSON, URL, Python repr, every character as \uXXXX, \NNN or an HTML entity),
// in upper or lower case, encoded (base64, hex; wrapped at any width, also inside a JSON string),
// long ones in part (any 24 characters of them in a row, in any case) and scattered (spaced out,
// split over lines, reversed, in a hex or octal dump).
// Known limits (a list of forms can never be complete): a secret shorter than 32 characters shown in
// part; one with fewer than 16 letters and digits (or bytes) scattered or in a dump (od -b, xxd);
// escapes mixed with characters other than letters, digits and _.~- (or a short secret's first
// characters left unescaped); ROT13 or any other cipher; compressed (gzip -c | base64); base32;
// base64 of base64, of the reversed secret or of a part; base64 or hex broken by more than line
// breaks, the indent after them and \n escapes (blanks within a line, quotes and + in source code,
// a comment marker); decimal byte lists (od -tu1); its characters reordered or mixed with others
// (reversed 8 at a time, a character inserted after each one, every other one); fullwidth or other
// look-alike letters; a device token in part or in another case (only its hash is known).
import crypto from 'node:crypto';
import type { ToolResultBlock } from '../agent/tool-runtime.js';
import {
  encodedForms,
  escapeRegExp,
  redactScattered,
  redactWrapped,
  replaceSpans,
  type ScatteredForms,
  scatteredForms,
  type WrappedForms,
  wrappedForms,
} from './secret-encodings.js';

export const REDACTED = '[redacted]';

/** A device token: 32 random bytes in base64url (store/devices.ts), so 43 characters. */
const TOKEN_LEN = 43;
/** How many characters of token-shaped runs one text may have hashed (a bound on the work). */
const WINDOW_BUDGET = 2_000_000;

/** 1 for the base64url alphabet (the characters a token is made of). */
const TOKEN_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-') TOKEN_CHAR[c.charCodeAt(0)] = 1;
/**
 * 1 for the characters a token can end with: 32 bytes are 256 bits, and the 43rd character holds
 * the last 4 bits followed by two zero bits, so it is one of 16 characters. Windows ending with any
 * other character cannot be a token and are not hashed (3 of 4 windows of random text).
 */
const TOKEN_LAST = new Uint8Array(128);
for (const c of 'AEIMQUYcgkosw048') TOKEN_LAST[c.charCodeAt(0)] = 1;

export interface KnownSecrets {
  /** Secrets in clear (8 characters or more). */
  values: string[];
  /** sha256 (hex) of each paired device's token. */
  tokenHashes: ReadonlySet<string>;
}

const isTokenChar = (c: number) => c < 128 && TOKEN_CHAR[c] === 1;

/** `run` (token characters only) with every window whose hash is a device's replaced. */
function redactTokensIn(run: string, hashes: ReadonlySet<string>): string {
  let out = '';
  let kept = 0;
  for (let i = 0; i + TOKEN_LEN <= run.length; ) {
    const last = run.charCodeAt(i + TOKEN_LEN - 1);
    if (TOKEN_LAST[last] === 1 && hashes.has(crypto.hash('sha256', run.slice(i, i + TOKEN_LEN), 'hex'))) {
      out += run.slice(kept, i) + REDACTED;
      i += TOKEN_LEN;
      kept = i;
    } else i++;
  }
  return out + run.slice(kept);
}

/** Every maximal run of 43 or more token characters, redacted, within the window budget. */
function redactTokens(text: string, hashes: ReadonlySet<string>): string {
  let budget = WINDOW_BUDGET;
  let out = '';
  let kept = 0;
  let start = -1;
  const n = text.length;
  // One pass over the text (cheaper than a regex on prose, where runs are short words).
  for (let i = 0; i <= n; i++) {
    if (i < n && isTokenChar(text.charCodeAt(i))) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0 && i - start >= TOKEN_LEN && budget >= i - start) {
      budget -= i - start;
      const run = text.slice(start, i);
      const red = redactTokensIn(run, hashes);
      if (red !== run) {
        out += text.slice(kept, start) + red;
        kept = i;
      }
    }
    start = -1;
  }
  return kept ? out + text.slice(kept) : text;
}

/** `s` as it reads inside a JSON string written by JSON.stringify (quotes, backslashes, control characters escaped). */
const jsonEscaped = (s: string) => JSON.stringify(s).slice(1, -1);
/** Likewise with every non-ASCII character as \uXXXX, as Python's json.dumps writes by default. */
const asciiJsonEscaped = (s: string) =>
  jsonEscaped(s).replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const urlEncoded = (s: string) => {
  try {
    return [encodeURIComponent(s), new URLSearchParams({ s }).toString().slice(2)];
  } catch {
    return []; // a lone surrogate cannot be URL-encoded, so it cannot appear that way either
  }
};

/** What Python's repr writes as an escape rather than as itself (what str.isprintable is false for). */
const PY_UNPRINTABLE = /\p{C}|(?! )\p{Z}/gu;
const PY_NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };
/** How Python's repr escapes one character: \t \n \r, else \xNN, \uNNNN or \UNNNNNNNN by its code point. */
const pyEscape = (c: string) => {
  if (PY_NAMED[c]) return PY_NAMED[c];
  const cp = c.codePointAt(0) ?? 0;
  const [prefix, width] = cp < 0x100 ? ['x', 2] : cp < 0x10000 ? ['u', 4] : ['U', 8];
  return `\\${prefix}${cp.toString(16).padStart(width, '0')}`;
};
/**
 * `s` inside Python's repr of a str (`{'KEY': 'p"ss\\w'}`, an f"{x!r}", a KeyError, a logged dict):
 * backslashes doubled, unprintable characters escaped, `"` as is and `'` as `\'`; or no quote
 * escaped, when repr writes the value in double quotes (it holds a `'` and no `"`).
 */
function pyReprForms(s: string): string[] {
  const body = s.replace(/\\/g, '\\\\').replace(PY_UNPRINTABLE, pyEscape);
  return [body.replace(/'/g, "\\'"), body];
}
/** Likewise inside a bytes repr (os.environb, a subprocess's output): each byte of its UTF-8 outside printable ASCII as \xNN. */
function pyBytesReprForms(s: string): string[] {
  let body = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    body +=
      c === '\\' ? '\\\\' : (PY_NAMED[c] ?? (b >= 0x20 && b < 0x7f ? c : `\\x${b.toString(16).padStart(2, '0')}`));
  }
  return [body.replace(/'/g, "\\'"), body];
}

/**
 * Every form a secret takes in text a tool may print: as is; inside a JSON string (a server that
 * prints its environment as JSON writes `p"ss` as `p\"ss`), also escaped twice (JSON holding JSON,
 * or structured content holding a JSON string, once stringified); in Python's repr (most MCP servers
 * are Python, and repr is how their tracebacks and logged dicts print a value); with only its quotes
 * escaped (as hand-written escaping does); URL-encoded (in a URL or a form). Longest first, so a
 * longer form is not broken up by a shorter one inside it. Text escaped character by character is
 * decoded and looked at as well (redactEscapedRuns).
 */
export function secretForms(secret: string): string[] {
  const json = [jsonEscaped(secret), asciiJsonEscaped(secret)];
  const quotesOnly = [secret.replace(/"/g, '\\"'), secret.replace(/'/g, "\\'")];
  const forms = new Set([
    secret,
    ...json,
    ...json.map(jsonEscaped),
    ...pyReprForms(secret),
    ...pyBytesReprForms(secret),
    ...quotesOnly,
    ...urlEncoded(secret),
  ]);
  return [...forms].sort((a, b) => b.length - a.length);
}

/**
 * A run of text escaped character by character, as encoders that escape everything write it: \uXXXX
 * (JSON, JavaScript), \xNN, \NNN (octal, as C, printf and bash's $'...' read it: up to 3 digits),
 * HTML numeric entities (decimal or hex), with plain letters and digits among them. Each starts with
 * an escape, so ordinary text costs one failed look per backslash or &.
 */
const ESCAPED_RUN =
  /(?:\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}|\\[0-7]{1,3}|&#[xX][0-9a-fA-F]{1,6};|&#[0-9]{1,7};)(?:\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}|\\[0-7]{1,3}|&#[xX][0-9a-fA-F]{1,6};|&#[0-9]{1,7};|[A-Za-z0-9_.~-])*/g;
const ONE_ESCAPE = /\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})|\\([0-7]{1,3})|&#[xX]([0-9a-fA-F]{1,6});|&#([0-9]{1,7});/g;

const unescaped = (run: string) =>
  run.replace(ONE_ESCAPE, (whole, u?: string, x?: string, octal?: string, hex?: string, dec?: string) => {
    const code = octal ? Number.parseInt(octal, 8) : dec ? Number(dec) : Number.parseInt(u ?? x ?? hex ?? '', 16);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });

/** Secrets are 8 characters or more, each at least one character of a run: shorter runs cannot hold one. */
const MIN_ESCAPED_RUN = 8;
/** The most characters one escape takes, for a character of a secret (`&#1114111;`): what a run of them may reach. */
const ESCAPE_WIDTH = 10;

/** `text` with every escaped run (ESCAPED_RUN) that holds a secret once decoded redacted whole. */
function redactEscapedRuns(text: string, holds: (decoded: string) => boolean): string {
  if (!text.includes('\\') && !text.includes('&#')) return text;
  return text.replace(ESCAPED_RUN, (run) => {
    if (run.length < MIN_ESCAPED_RUN) return run;
    return holds(unescaped(run)) ? REDACTED : run;
  });
}

/** A secret at least this long is redacted in part too: any FRAGMENT characters of it in a row, in any case. */
const PARTIAL_FROM = 32;
const FRAGMENT = 24;
/**
 * Any FRAGMENT characters of a secret in a row hold one whole block of BLOCK characters that starts
 * at a multiple of BLOCK in the secret: those blocks are looked for (one pattern), and each one found
 * is grown both ways as far as the text goes on matching the secret.
 */
const BLOCK = FRAGMENT / 2;

interface Fragments {
  blocks: RegExp;
  /** The long secrets, lower case. */
  secrets: string[];
  /** Each block (lower case): every place it is found in a secret, as [secret, offset]. */
  where: Map<string, Array<[number, number]>>;
}

function fragmentsOf(values: readonly string[]): Fragments | undefined {
  const secrets = [...new Set(values.filter((v) => v.length >= PARTIAL_FROM).map((v) => v.toLowerCase()))];
  const where = new Map<string, Array<[number, number]>>();
  for (const secret of secrets)
    for (let at = 0; at + BLOCK <= secret.length; at += BLOCK) where.set(secret.slice(at, at + BLOCK), []);
  for (const [block, places] of where)
    secrets.forEach((secret, s) => {
      for (let at = secret.indexOf(block); at >= 0; at = secret.indexOf(block, at + 1)) places.push([s, at]);
    });
  if (!where.size) return undefined;
  try {
    return { blocks: new RegExp([...where.keys()].map(escapeRegExp).join('|'), 'gi'), secrets, where };
  } catch {
    return undefined; // secrets of many kilobytes: their whole forms are still redacted
  }
}

/** `text` with every run of FRAGMENT or more characters of a long secret (any case) redacted. */
function redactFragments(text: string, f: Fragments): string {
  const spans: Array<[number, number]> = [];
  // Character by character: lower-casing the whole text can change its length (İ becomes two).
  const same = (at: number, c: string) => text[at] === c || text[at].toLowerCase() === c;
  f.blocks.lastIndex = 0;
  for (let m = f.blocks.exec(text); m; m = f.blocks.exec(text)) {
    const found = m.index;
    for (const [s, offset] of f.where.get(m[0].toLowerCase()) ?? []) {
      const secret = f.secrets[s];
      let from = found;
      let to = found + BLOCK;
      for (let at = offset; from > 0 && at > 0 && same(from - 1, secret[at - 1]); at--) from--;
      for (let at = offset + BLOCK; to < text.length && at < secret.length && same(to, secret[at]); at++) to++;
      if (to - from >= FRAGMENT) spans.push([from, to]);
    }
    // Blocks found may overlap (a block of one secret ending inside another's): look again one character on.
    f.blocks.lastIndex = found + 1;
  }
  return replaceSpans(text, spans, REDACTED);
}

/** Every form of `secret` in text: escaped as text is (secretForms) and encoded as bytes are (secret-encodings.ts). */
export const everyForm = (secret: string): string[] => [...secretForms(secret), ...encodedForms(secret)];

/**
 * One pattern for every form of every secret, longest first (at any place the longest form there is
 * taken). Output is redacted on every tool call with the same few sets of secrets, so each set's
 * pattern is built once and kept: one pass over a large output, however many forms there are.
 */
interface SetPatterns {
  forms: string[];
  pattern?: RegExp;
  wrapped: WrappedForms;
  scattered: ScatteredForms;
  fragments?: Fragments;
}
const patternBySet = new Map<string, SetPatterns>();
const MAX_SETS = 16;
function patternOf(values: readonly string[]): SetPatterns {
  const key = values.join('\0');
  let found = patternBySet.get(key);
  if (!found) {
    // Also in upper and lower case (a shorter secret is not looked for in part, nor in mixed case).
    const cased = values.flatMap((v) => [v.toUpperCase(), v.toLowerCase()]);
    const forms = [...new Set([...values.flatMap(everyForm), ...cased])]
      .filter(Boolean)
      .sort((a, b) => b.length - a.length);
    const fragments = fragmentsOf(values);
    found = {
      forms,
      wrapped: wrappedForms(forms),
      scattered: scatteredForms(values),
      ...(fragments ? { fragments } : {}),
    };
    try {
      if (forms.length) found.pattern = new RegExp(forms.map(escapeRegExp).join('|'), 'g');
    } catch {
      // Too large for one pattern (secrets of many kilobytes): each form is looked for in turn.
    }
    if (patternBySet.size >= MAX_SETS) patternBySet.clear();
    patternBySet.set(key, found);
  }
  return found;
}

/**
 * The most characters one known secret takes in any form redactText catches as one piece (as is,
 * escaped, encoded; a device token): how much of text still arriving may hold a secret in part.
 */
export function secretReach(secrets: KnownSecrets): number {
  const longest = patternOf(secrets.values).forms[0]?.length ?? 0;
  const escaped = ESCAPE_WIDTH * Math.max(0, ...secrets.values.map((v) => v.length));
  return Math.max(longest, escaped, secrets.tokenHashes.size ? TOKEN_LEN : 0);
}

/**
 * How many letters and digits in a row the longest known secret takes scattered (its octal, 3 digits
 * a byte, the longest such pattern): redaction finds one with any other characters between them, so
 * this many letters of text already looked at are all a later piece of the same text needs of it.
 */
export function scatteredReach(secrets: KnownSecrets): number {
  return Math.max(0, ...secrets.values.map((v) => 3 * Buffer.byteLength(v, 'utf8')));
}

/**
 * The last text redacted and what it became, per set of secrets: a tool's output is redacted as its
 * blocks and again as its output text, usually the same 60 KB string.
 */
let lastRedacted: { set: SetPatterns; hashes: ReadonlySet<string>; text: string; out: string } | undefined;

export function redactText(text: string, secrets: KnownSecrets): string {
  const set = patternOf(secrets.values);
  const last = lastRedacted;
  if (last && last.set === set && last.hashes === secrets.tokenHashes && last.text === text) return last.out;
  const out = redactOnce(text, set, secrets);
  if (text.length >= 4096) lastRedacted = { set, hashes: secrets.tokenHashes, text, out };
  return out;
}

function redactOnce(
  text: string,
  { forms, pattern, wrapped, scattered, fragments }: SetPatterns,
  secrets: KnownSecrets,
): string {
  const redactForms = (t: string) => {
    if (pattern) return t.replace(pattern, REDACTED);
    let r = t;
    for (const form of forms) if (r.includes(form)) r = r.split(form).join(REDACTED);
    return r;
  };
  let out = forms.length ? redactWrapped(redactForms(text), wrapped, REDACTED) : text;
  out = redactEscapedRuns(out, (decoded) => {
    const red = redactForms(decoded);
    return red !== decoded || (fragments !== undefined && redactFragments(red, fragments) !== red);
  });
  out = redactScattered(out, scattered, REDACTED);
  // After the scattered views: a part taken first would break up a dump that holds the whole key.
  if (fragments) out = redactFragments(out, fragments);
  if (secrets.tokenHashes.size) out = redactTokens(out, secrets.tokenHashes);
  return out;
}

export function redactBlocks(blocks: ToolResultBlock[], secrets: KnownSecrets): ToolResultBlock[] {
  if (!secrets.values.length && !secrets.tokenHashes.size) return blocks;
  return blocks.map((b) => (b.type === 'text' ? { ...b, text: redactText(b.text, secrets) } : b));
}
