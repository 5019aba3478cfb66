/**
 * Characters that must never reach a reader as they are: control characters (terminal escapes,
 * line breaks) and invisible direction, width and line marks (U+202E and friends, which can reorder
 * or hide what a reader sees). One definition for device names, terminals and lock screens.
 */
export const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** Remove those characters from text that came from a device. */
export const stripControl = (s: string): string => s.replace(UNSAFE_TEXT, '');
