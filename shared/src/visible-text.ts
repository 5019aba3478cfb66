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
 * Scotland and Wales) are shown as escapes. A regular expression's source; the terminal's
 * (daemon/src/util/text.ts) keeps the same ones.
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
const HIDDEN = new RegExp(
  String.raw`(?!${EMOJI_FORMAT})[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2065\u2800\u3164\ufe00-\ufe0f\uffa0\u{e0000}-\u{e0fff}\u27e8]`,
  'gu',
);

const marker = (ch: string): string => `⟨U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}⟩`;

/**
 * `text` with every invisible, control and direction-changing character shown as ⟨U+XXXX⟩.
 * `keepLineBreaks` leaves "\n" as a line break (for text shown on several lines, such as the
 * pretty-printed action); otherwise the text stays on one line.
 */
export function visibleText(text: string, keepLineBreaks = false): string {
  return text.replace(HIDDEN, (ch) => (keepLineBreaks && ch === '\n' ? ch : marker(ch)));
}

/** Embeddings, overrides and isolates (U+202A–202E, U+2066–2069): each reorders what follows it. */
const DIRECTION_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/g;

/**
 * Prose (the model's answer, a Markdown file, a table's cells) with the characters that reorder what
 * follows them shown as markers: "saved as invoice<U+202E>fdp.exe" must not read "invoiceexe.pdf".
 * Direction marks (U+200E, U+200F), joiners and non-breaking spaces belong to ordinary writing in
 * many languages and stay as they are.
 */
export function visibleProse(text: string): string {
  return text.replace(DIRECTION_CONTROLS, marker);
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
