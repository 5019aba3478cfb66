// Text shown for a person to approve (a command, a path, a connector's words), or to judge (a file's
// lines, a diff, the model's answer), made to read as what runs: a character that would be invisible, would control the display, or would change the direction
// of what follows it is shown as a marker such as ⟨U+202E⟩, never as itself. U+202E and its friends
// reorder a line on screen ("rm -rf data" can read as a comment), zero-width characters hide text,
// and a line break or a look-alike space can make one argument read as two.
// No dependencies: the PWA imports this file directly, not through the shared index.

/**
 * The format characters that belong to emoji, kept as they are: a zero-width joiner between two
 * pictographs (👩‍💻, 🏳️‍🌈) and one presentation selector (U+FE0E, U+FE0F) right after a pictograph or a
 * keycap's digit, # or * (❤️, 1️⃣). Each says at most one bit, so none can hide words. A joiner
 * anywhere else, a second selector in a row and tag characters (even in the flags 🏴 of England,
 * Scotland and Wales, which only prose keeps) are shown as escapes. A regular expression's source;
 * the terminal's (daemon/src/util/text.ts) keeps the same ones.
 */
export const EMOJI_FORMAT = String.raw`(?<=\p{Extended_Pictographic}[\u{1f3fb}-\u{1f3ff}\ufe0f]?)\u200d(?=\p{Extended_Pictographic})|(?<=[\p{Extended_Pictographic}#*0-9])[\ufe0e\ufe0f]`;

/**
 * Shown as a marker, unless it is one of the EMOJI_FORMAT characters:
 * - control characters (C0, DEL, C1), line breaks and tabs included;
 * - format characters (\p{Cf}): bidi embeddings, overrides, isolates and marks (U+202A–202E,
 *   U+2066–2069, U+200E, U+200F, U+061C), zero-width space and joiners (U+200B–200D), word joiner
 *   and invisible operators (U+2060–2064), byte order mark (U+FEFF), soft hyphen, tag characters;
 * - line and paragraph separators (U+2028, U+2029) and lone surrogates;
 * - every space but the plain one (U+00A0, U+1680, U+2000–200A, U+202F, U+205F, U+3000);
 * - characters drawn as nothing: combining grapheme joiner, Hangul fillers, Khmer inherent vowels,
 *   Mongolian variation selectors, braille blank, U+2065, variation selectors, and the rest of plane 14
 *   (tags and selectors; what is not yet assigned there would be invisible too);
 * - "⟨" itself, so every marker on screen is one this function made.
 */
const HIDDEN_CHARS = String.raw`[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2065\u2800\u3164\ufe00-\ufe0f\uffa0\u{e0000}-\u{e0fff}\u27e8]`;
// The character is looked at first: the emoji rule's look-behind runs only where it can matter.
const HIDDEN = new RegExp(`(?=${HIDDEN_CHARS})(?!${EMOJI_FORMAT})${HIDDEN_CHARS}`, 'gu');

const marker = (ch: string): string => `⟨U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}⟩`;

/**
 * `text` with every invisible, control and direction-changing character shown as ⟨U+XXXX⟩.
 * `keepLineBreaks` leaves "\n" as a line break (for text shown on several lines, such as the
 * pretty-printed action); otherwise the text stays on one line.
 */
export function visibleText(text: string, keepLineBreaks = false): string {
  return text.replace(HIDDEN, (ch) => (keepLineBreaks && ch === '\n' ? ch : marker(ch)));
}

/**
 * The flags of England, Scotland and Wales: a black flag, the tags "gbeng", "gbsct" or "gbwls" and a
 * cancel tag. The only tag sequences drawn as a picture; any other run of tags is drawn as nothing
 * while a model reads it as words ("🏴" + tags "ignore" + cancel tag), so it is shown as markers.
 */
const SUBDIVISION_FLAG = String.raw`\u{1f3f4}\u{e0067}\u{e0062}(?:\u{e0065}\u{e006e}\u{e0067}|\u{e0073}\u{e0063}\u{e0074}|\u{e0077}\u{e006c}\u{e0073})\u{e007f}`;

/**
 * What ordinary writing needs among the HIDDEN characters, kept as they are in prose: tabs and line
 * breaks (the renderer lays them out), spaces of every width (drawn as space, read as space),
 * direction marks (U+200E, U+200F: Hebrew and Arabic next to Latin), and one zero-width (non-)joiner
 * between letters or marks (Persian "می‌خواهم", Indic conjuncts); a run of them says more than a
 * word needs, so it is marked.
 */
const PROSE_KEEPS = String.raw`[\t\n\r\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u200e\u200f]|(?<=[\p{L}\p{M}])[\u200c\u200d](?=[\p{L}\p{M}])`;

const PROSE_HIDDEN = new RegExp(
  `(${SUBDIVISION_FLAG})|(?=${HIDDEN_CHARS})(?!${PROSE_KEEPS})(?!${EMOJI_FORMAT})${HIDDEN_CHARS}`,
  'gu',
);

/**
 * Prose (the model's answer, a Markdown file, a table's cells, a thread's or a schedule's title) with
 * the HIDDEN characters shown as markers, but for what ordinary writing needs (PROSE_KEEPS) and emoji
 * (EMOJI_FORMAT, the three subdivision flags). What a person reads must be all that a model reads:
 * tag characters hide an ASCII copy ("IGNORE") that draws as nothing, zero-width spaces, word joiners,
 * a byte order mark or a soft hyphen split or hide words, and "invoice<U+202E>fdp.exe" must not read
 * "invoiceexe.pdf". Copying the text copies the markers: what is shown, never a hidden payload.
 */
export function visibleProse(text: string): string {
  return text.replace(PROSE_HIDDEN, (ch, flag: string | undefined) => flag ?? marker(ch));
}

/**
 * Code and text files (a code block, a file's lines, a diff) as visibleText shows them, but with
 * their tabs and line breaks (a Windows line end is one). What a person reviews must show the
 * characters that would make code read otherwise than it runs (a U+202E in a comment, a
 * zero-width character in a name).
 */
export function visibleCode(text: string): string {
  return text.replace(/\r\n/g, '\n').replace(HIDDEN, (ch) => (ch === '\n' || ch === '\t' ? ch : marker(ch)));
}

/** Characters as drawn, where the runtime knows them (Intl.Segmenter: not in older browsers). */
const graphemes =
  typeof Intl !== 'undefined' && typeof Intl.Segmenter === 'function'
    ? new Intl.Segmenter('en', { granularity: 'grapheme' })
    : undefined;

/**
 * The longest start of `text` of at most `max` code points that splits no character as drawn (an emoji
 * sequence, a flag, a letter with its accents): never half an emoji before a "…". By code point where
 * graphemes are not known, or when the first one alone is longer than `max`; a joiner left at the end
 * then goes too. The daemon's push lines and the service worker's cut the same way.
 */
export function cutWhole(text: string, max: number): string {
  if (graphemes) {
    let out = '';
    let n = 0;
    for (const { segment } of graphemes.segment(text)) {
      n += Array.from(segment).length;
      if (n > max) break;
      out += segment;
    }
    if (out || max <= 0) return out;
  }
  return Array.from(text)
    .slice(0, Math.max(0, max))
    .join('')
    .replace(/\u200d+$/, '');
}
