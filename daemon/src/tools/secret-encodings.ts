// A secret as it reads once a tool encoded the bytes around it: base64 (an `Authorization: Basic`
// header, `base64 ~/.netrc`, a data: URL, a JWT's payload) and hex (`xxd -p`, a hexdump, a bytes
// literal). Base64 writes 3 bytes as 4 characters, so a secret's characters depend on where it sits
// in the encoded bytes: for each of the 3 places mod 3, the part of its encoding that does not
// depend on the bytes around it is looked for (standard and URL-safe alphabets).

/** Shorter parts than this are not looked for: a few characters of base64 can appear anywhere. */
const MIN_PART = 8;

/** The characters of base64 that only `secret`'s bytes decide, when it starts `shift` bytes into a group of 3. */
function base64Part(bytes: Buffer, shift: number): string {
  const total = shift + bytes.length;
  const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
  // The first character a secret byte shares with a byte before it, and the last group it fills whole.
  const first = [0, 2, 3][shift];
  const end = Math.floor(total / 3) * 4;
  return encoded.slice(first, end);
}

export function encodedForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = new Set<string>();
  for (const shift of [0, 1, 2]) {
    const part = base64Part(bytes, shift);
    if (part.length < MIN_PART) continue;
    forms.add(part);
    forms.add(part.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  const hex = bytes.toString('hex');
  forms.add(hex);
  forms.add(hex.toUpperCase());
  return [...forms];
}

// Encoders wrap their lines: `base64` at 76 characters (or any width: `base64 -w4`), PEM at 64, `xxd
// -p` at 60, with \n or \r\n line ends, maybe indented (a YAML block); and a string that holds such
// text, written as JSON (an exported settings file, a jq or Python dump, an MCP server's output),
// has the two characters \n where the line breaks were. The forms made only of base64 characters
// (the encoded ones, and a secret that is itself such a run) are looked for in a view of the text
// without its line breaks, however short the lines, and only the span of the text where one lies
// is redacted.

/** The forms made only of base64 characters (both alphabets, padding), so also hex. */
const ONLY_ENCODED = /^[A-Za-z0-9+/=_-]+$/;

/**
 * What a wrap puts between two lines, left out of the view: line breaks (\n, \r\n, \r, or written
 * as the escapes `\n` and `\r`, or escaped twice: `\\n`, JSON in JSON), each with the blanks that
 * indent the next line; and the backslash PHP's json_encode writes before each `/`. One break a
 * match (a group repeated overflowed the stack on a long run of them), and only the blanks after it
 * (`[ \t]*` before one would try each blank of a long run again at each of its characters).
 * scanWrapped leaves out the same characters, from left to right as replace() does.
 */
const WRAP = /(?:\r?\n|\r|\\{1,2}[nr])[ \t]*|\\(?=\/)/g;

/** What a set of secrets is looked for with, wrapped (worked out once per set). */
export type WrappedForms = Finder;

export const wrappedForms = (forms: readonly string[]): WrappedForms =>
  finder(forms.filter((f) => f.length >= MIN_PART && ONLY_ENCODED.test(f)));

const isBackslash = (text: string, i: number) => text.charCodeAt(i) === 92;
const isNOrR = (text: string, i: number) => text.charCodeAt(i) === 110 || text.charCodeAt(i) === 114;

/** How many characters the line break at `i` takes (a real one, or written as an escape), or 0. */
function lineBreakAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === 10 || c === 13) return 1;
  if (!isBackslash(text, i)) return 0;
  if (isBackslash(text, i + 1) && isNOrR(text, i + 2)) return 3;
  return isNOrR(text, i + 1) ? 2 : 0;
}

/** Every character of the text but what WRAP matches. */
function scanWrapped(text: string, visit: Visit): void {
  let afterBreak = false;
  for (let i = 0; i < text.length; ) {
    const breakLength = lineBreakAt(text, i);
    if (breakLength) {
      i += breakLength;
      afterBreak = true;
    } else if (afterBreak && isBlank(text.charCodeAt(i))) i++;
    else {
      afterBreak = false;
      // The backslash before a `/`.
      if (!(isBackslash(text, i) && text.charCodeAt(i + 1) === 47)) visit(text.charCodeAt(i), i);
      i++;
    }
  }
}

/**
 * `text` with every span where a form lies wrapped (see above) replaced with `replacement`. The view
 * is made with a native regular expression (this runs on every output, most of which hold no
 * form), and the text walked once more only to map a match back to it.
 */
export function redactWrapped(text: string, forms: WrappedForms, replacement: string): string {
  if (!forms.patterns.length) return text;
  const view = text.replace(WRAP, '');
  if (view.length === text.length) return text; // unwrapped forms were looked for in the text itself
  const spans = spansIn(text, view, (v) => scanWrapped(text, v), forms);
  return replaceSpans(text, spans, replacement);
}

// A secret scattered by a tool that reshapes text: spaced out (`sed 's/./& /g'`, `od -c`), split
// over lines (`fold`), reversed (`rev`), or dumped (`xxd`, `hexdump -C`, `od -t x1`: hex in groups
// with an offset column and often an ASCII column; `od -b`, and `\NNN` escapes: octal bytes). Its
// letters and digits are looked for in order with only separators between them, in views of the
// text built in one pass each, and the whole span is redacted. Only secrets long enough that a
// chance match in ordinary text is negligible.

/** Secrets with fewer letters and digits than this are not looked for scattered. */
export const MIN_SCATTERED = 16;

/**
 * Patterns to look for in a view, all at once: one regular expression (one pass, whatever the number
 * of secrets), or each in turn when it is too large to build.
 */
interface Finder {
  patterns: string[];
  regex?: RegExp;
}

export const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function finder(patterns: string[]): Finder {
  const longestFirst = [...patterns].sort((a, b) => b.length - a.length);
  try {
    const regex = longestFirst.length ? new RegExp(longestFirst.map(escapeRegExp).join('|'), 'g') : undefined;
    return { patterns: longestFirst, regex };
  } catch {
    return { patterns: longestFirst };
  }
}

/** Where the finder's patterns are in `view`: first and last position of each match. */
function findAll(view: string, f: Finder): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  if (f.regex) {
    f.regex.lastIndex = 0;
    for (let m = f.regex.exec(view); m; m = f.regex.exec(view)) found.push([m.index, m.index + m[0].length - 1]);
  } else
    for (const p of f.patterns)
      for (let at = view.indexOf(p); at >= 0; at = view.indexOf(p, at + p.length)) found.push([at, at + p.length - 1]);
  return found;
}

/** What a set of secrets is looked for with, scattered (worked out once per set). */
export interface ScatteredForms {
  /** Letters and digits of each secret, in order and reversed. */
  plain: Finder;
  /** Hex of each secret's bytes, lower and upper case. */
  hex: Finder;
  /** These and the octal of each secret's bytes (3 digits a byte). */
  any: Finder;
  /**
   * The start of every pattern with only separators between its characters, looked for in the text
   * itself: a text where none is, and with no offset column (so no dump either), holds no secret
   * scattered, and its views are not built (most outputs; ~0.5 ms per 60 KB saved).
   */
  starts?: RegExp;
}

const isAlnum = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isHexDigit = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const isBlank = (c: number) => c === 32 || c === 9;
/** Marks where a view's runs stop (a line that is not part of a dump): never part of a pattern. */
const BREAK = 10;

/** Each byte as 3 octal digits, as `od -b` and `\NNN` escapes write it. */
const octalOf = (bytes: Buffer) => [...bytes].map((b) => b.toString(8).padStart(3, '0')).join('');

const lettersAndDigits = (s: string) => s.replace(/[^A-Za-z0-9]+/g, '');

export function scatteredForms(secrets: readonly string[]): ScatteredForms {
  const plain = new Set<string>();
  const hex = new Set<string>();
  const octal = new Set<string>();
  for (const secret of secrets) {
    const letters = lettersAndDigits(secret);
    if (letters.length >= MIN_SCATTERED) {
      plain.add(letters);
      plain.add([...letters].reverse().join(''));
    }
    const bytes = Buffer.from(secret, 'utf8');
    if (bytes.length >= MIN_SCATTERED) {
      hex.add(bytes.toString('hex'));
      hex.add(bytes.toString('hex').toUpperCase());
      octal.add(octalOf(bytes));
    }
  }
  const all = [...plain, ...hex, ...octal];
  const starts = all.length
    ? new RegExp([...new Set(all.map((p) => p.slice(0, 8)))].map((p) => [...p].join('[^A-Za-z0-9]*')).join('|'))
    : undefined;
  return { plain: finder([...plain]), hex: finder([...hex]), any: finder(all), ...(starts ? { starts } : {}) };
}

/** Calls `visit` with each character a view keeps and where it is in the text. */
type Visit = (code: number, at: number) => void;

/**
 * Where a line's offset column ends: a dump's offset (6 or more hex digits, maybe a colon) or a line
 * number (`cat -n`: digits and a tab), with text after it on the line. `i` when there is none.
 */
function afterOffset(text: string, i: number): number {
  const n = text.length;
  let j = i;
  while (j < n && isBlank(text.charCodeAt(j))) j++;
  const digits = j;
  let decimal = true;
  while (j < n && isHexDigit(text.charCodeAt(j))) {
    if (text.charCodeAt(j) > 57) decimal = false;
    j++;
  }
  const count = j - digits;
  if (count >= 6 && text.charCodeAt(j) === 58 /* : */) j++;
  const lineNumber = count >= 1 && decimal && text.charCodeAt(j) === 9;
  if (!(count >= 6 || lineNumber) || !isBlank(text.charCodeAt(j))) return i;
  while (j < n && isBlank(text.charCodeAt(j))) j++;
  return j < n && text.charCodeAt(j) !== 10 && text.charCodeAt(j) !== 13 ? j : i;
}

/** The letters and digits of the text, in order; with `dropOffsets`, not those of offset columns. */
function scanLetters(text: string, dropOffsets: boolean, visit: Visit): void {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    if (dropOffsets && (i === 0 || text.charCodeAt(i - 1) === 10)) i = afterOffset(text, i);
    const c = text.charCodeAt(i);
    if (isAlnum(c)) visit(c, i);
  }
}

const latin1 = (codes: Uint8Array, length: number) => Buffer.from(codes.buffer, 0, length).toString('latin1');

/**
 * What scanLetters visits without dropping offsets, as text, in one tight pass (this runs on every
 * output, most of which hold no secret); and whether the text has an offset column at all.
 */
function lettersView(text: string): { view: string; offsets: boolean } {
  // Native regular expressions: a character loop in JavaScript took ~0.3 ms per 60 KB output.
  return { view: text.replace(NOT_LETTER_OR_DIGIT, ''), offsets: OFFSET_COLUMN.test(text) };
}
/** What scanLetters leaves out without dropping offsets. */
const NOT_LETTER_OR_DIGIT = /[^A-Za-z0-9]+/g;
/** A line afterOffset takes an offset column from: 6+ hex digits (maybe a colon), or digits and a tab, then blanks and text. */
const OFFSET_COLUMN = /^[ \t]*(?:[0-9A-Fa-f]{6,}:?[ \t]|[0-9]+\t)[ \t]*[^\r\n \t]/m;

/**
 * The dump lines of a text: where their hex groups and their ASCII columns are, as flat lists of
 * (start, end) pairs, with (-1, -1) where a run of dump lines stops.
 */
interface Dump {
  hex: number[];
  ascii: number[];
}

/** Dump lines are short (xxd -c 256 makes lines of about 900 characters); longer lines are not parsed. */
const MAX_DUMP_LINE = 4096;

/**
 * `text[start, end)` read as a dump line: an offset column, hex groups of whole bytes separated by
 * one or two spaces, then the ASCII column: one character per byte, either at the end of the line
 * after spaces (xxd) or between | | or > < (hexdump -C, od -t x1z). The ASCII column can itself look
 * like hex groups, so the most groups whose byte count fits the line's end are taken. Linear in the
 * line; adds the line to `dump` and says whether it was one.
 */
function addDumpLine(text: string, start: number, end: number, dump: Dump): boolean {
  if (end > start && text.charCodeAt(end - 1) === 13) end--;
  if (end - start > MAX_DUMP_LINE) return false;
  let i = start;
  while (i < end && isHexDigit(text.charCodeAt(i))) i++;
  if (i - start < 6) return false;
  if (text.charCodeAt(i) === 58 /* : */) i++;
  const first = dump.hex.length;
  // Bytes in the groups so far, and in the first k groups (at [k]).
  let bytes = 0;
  const bytesBefore = [0];
  while (i < end) {
    let spaces = 0;
    while (i < end && text.charCodeAt(i) === 32) {
      i++;
      spaces++;
    }
    if (spaces < 1 || spaces > 2) break;
    const g = i;
    while (i < end && isHexDigit(text.charCodeAt(i))) i++;
    const len = i - g;
    if (len < 2 || len % 2 || (i < end && text.charCodeAt(i) !== 32)) break;
    dump.hex.push(g, i);
    bytes += len / 2;
    bytesBefore.push(bytes);
  }
  const count = bytesBefore.length - 1;
  if (!count) return false;
  // hexdump -C and od -t x1z: |ascii| or >ascii< after every group.
  const last = dump.hex[dump.hex.length - 1];
  let open = last;
  while (open < end && text.charCodeAt(open) === 32) open++;
  const opener = text.charCodeAt(open);
  const closer = text.charCodeAt(end - 1);
  const framed = (opener === 124 && closer === 124) || (opener === 62 && closer === 60);
  if (framed && open > last && end - open - 2 === bytes) {
    dump.ascii.push(open + 1, end - 1);
    return true;
  }
  // xxd: the last `bytes` characters of the line, after spaces that follow the k-th group.
  for (let k = count; k >= 1; k--) {
    const asciiStart = end - bytesBefore[k];
    const hexEnd = dump.hex[first + 2 * k - 1];
    const nextText = k < count ? dump.hex[first + 2 * k] : open;
    if (asciiStart > hexEnd && asciiStart <= nextText) {
      dump.hex.length = first + 2 * k;
      dump.ascii.push(asciiStart, end);
      return true;
    }
  }
  dump.hex.length = first;
  return false;
}

/** The dump lines of `text`. */
function dumpOf(text: string): Dump {
  const dump: Dump = { hex: [], ascii: [] };
  const n = text.length;
  let inDump = false;
  for (let start = 0; start < n; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    const wasDump = inDump;
    inDump = isHexDigit(text.charCodeAt(start)) && addDumpLine(text, start, end, dump);
    if (wasDump && !inDump) {
      dump.hex.push(-1, -1);
      dump.ascii.push(-1, -1);
    }
    start = end + 1;
  }
  return dump;
}

/** The hex digits of the dump's hex groups, or the letters and digits of its ASCII columns. */
function scanDump(text: string, ranges: number[], lettersOnly: boolean, visit: Visit): void {
  for (let r = 0; r < ranges.length; r += 2) {
    if (ranges[r] < 0) visit(BREAK, -1);
    for (let i = ranges[r]; i < ranges[r + 1]; i++) {
      const c = text.charCodeAt(i);
      if (!lettersOnly || isAlnum(c)) visit(c, i);
    }
  }
}

/** What `scan` visits, as text. */
function viewOf(text: string, scan: (visit: Visit) => void): string {
  const codes = new Uint8Array(text.length + 1);
  let length = 0;
  scan((c) => {
    codes[length++] = c;
  });
  return latin1(codes, length);
}

/**
 * The spans of `text` (start, end) where a pattern is found in `view`, the text `scan` visits:
 * matches are found in the view, then mapped back to the text in one more pass.
 */
function spansIn(text: string, view: string, scan: (visit: Visit) => void, patterns: Finder): Array<[number, number]> {
  if (!patterns.patterns.length) return [];
  const found = findAll(view, patterns);
  if (!found.length) return [];
  const wanted = [...new Set(found.flat())].sort((a, b) => a - b);
  const where = new Map<number, number>();
  let position = 0;
  let next = 0;
  scan((_, at) => {
    if (position++ === wanted[next]) where.set(wanted[next++], at);
  });
  return found.map(([a, b]) => [where.get(a) ?? 0, (where.get(b) ?? 0) + 1]);
}

/**
 * `text` with every span where a secret lies scattered (see above) replaced with `replacement`.
 * A few passes over the text, each linear; spans found by several views are merged.
 */
export function redactScattered(text: string, forms: ScatteredForms, replacement: string): string {
  if (text.length < MIN_SCATTERED || !forms.any.patterns.length) return text;
  if (forms.starts && !forms.starts.test(text) && !OFFSET_COLUMN.test(text)) return text;
  const letters = lettersView(text);
  const noOffsets = (v: Visit) => scanLetters(text, true, v);
  const dump = dumpOf(text);
  const dumpHex = (v: Visit) => scanDump(text, dump.hex, false, v);
  const dumpAscii = (v: Visit) => scanDump(text, dump.ascii, true, v);
  const spans = [
    ...spansIn(text, letters.view, (v) => scanLetters(text, false, v), forms.any),
    ...(letters.offsets ? spansIn(text, viewOf(text, noOffsets), noOffsets, forms.any) : []),
    ...(dump.hex.length ? spansIn(text, viewOf(text, dumpHex), dumpHex, forms.hex) : []),
    ...(dump.ascii.length ? spansIn(text, viewOf(text, dumpAscii), dumpAscii, forms.plain) : []),
  ];
  return replaceSpans(text, spans, replacement);
}

/** `text` with each of the spans ([from, to), in any order, overlapping or not) replaced, merged ones once. */
export function replaceSpans(text: string, spans: Array<[number, number]>, replacement: string): string {
  if (!spans.length) return text;
  spans.sort((a, b) => a[0] - b[0]);
  let out = '';
  let kept = 0;
  for (let i = 0; i < spans.length; ) {
    const from = spans[i][0];
    let to = spans[i][1];
    for (i++; i < spans.length && spans[i][0] <= to; i++) to = Math.max(to, spans[i][1]);
    out += text.slice(kept, from) + replacement;
    kept = to;
  }
  return out + text.slice(kept);
}
