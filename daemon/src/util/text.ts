/**
 * Remove control characters (terminal escapes, line breaks) and invisible direction or width marks
 * (U+202E and friends, which can reorder what a reader sees) from text that came from a device.
 */
export const stripControl = (s: string): string =>
  s.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g, '');
