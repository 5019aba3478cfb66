import { EMOJI_FORMAT } from '../../../shared/src/visible-text.js';

/**
 * Characters that must never reach a reader as they are: control characters (terminal escapes,
 * line breaks) and invisible direction, width and line marks (U+202E and friends, which can reorder
 * or hide what a reader sees). One definition for device names, terminals and lock screens.
 */
export const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/**
 * Everything a terminal would draw as nothing, or that controls it, in text someone else chose (a
 * server's tool description, a model's file name), for showing as an escape: what a person reads
 * must be all a model reads. So UNSAFE_TEXT and also every format character (\p{Cf}: soft hyphen,
 * invisible operators, U+180E, tag characters, whose invisible copy of ASCII a model reads as
 * words), variation selectors, characters drawn blank (combining grapheme joiner, Hangul fillers,
 * Khmer inherent vowels, Mongolian selectors, braille blank), private-use and unassigned code points
 * (drawn as whatever a font or terminal decides). Accents, other scripts and emoji stay as they are,
 * with the joiners and selectors emoji are made of (EMOJI_FORMAT, the phone's rule too).
 */
export const HIDDEN_TEXT = new RegExp(
  String.raw`(?!${EMOJI_FORMAT})[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164\ufe00-\ufe0f\uffa0\u{e0100}-\u{e01ef}]`,
  'gu',
);

/** The first `max` UTF-16 units of `s`, one fewer where the cut would split a surrogate pair (an emoji). */
export function cutText(s: string, max: number): string {
  if (s.length <= max) return s;
  const last = s.charCodeAt(max - 1);
  return s.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/**
 * Remove those characters, and everything else drawn as nothing (HIDDEN_TEXT: tag characters, soft
 * hyphens, fillers), from text that came from a device or a model and is shown as a name or title.
 */
export const stripControl = (s: string): string => s.replace(UNSAFE_TEXT, '').replace(HIDDEN_TEXT, '');
