/**
 * Characters that must never reach a reader as they are: control characters (terminal escapes,
 * line breaks) and invisible direction, width and line marks (U+202E and friends, which can reorder
 * or hide what a reader sees). One definition for device names, terminals and lock screens.
 */
export const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** The first `max` UTF-16 units of `s`, one fewer where the cut would split a surrogate pair (an emoji). */
export function cutText(s: string, max: number): string {
  if (s.length <= max) return s;
  const last = s.charCodeAt(max - 1);
  return s.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

/** Remove those characters from text that came from a device. */
export const stripControl = (s: string): string => s.replace(UNSAFE_TEXT, '');
