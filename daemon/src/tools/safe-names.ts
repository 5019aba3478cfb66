// Names the model gives new files and folders are shown later outside Errand (a file manager, a
// terminal, the phone), where nothing escapes them: a mark that reorders or hides characters
// ("bidi\u202etxt.exe" reads "bidiexe.txt") or a control character (a line break, a terminal escape)
// makes a name lie about what it is. One rule for memory files and files in the roots.
import { UNSAFE_TEXT } from '../util/text.js';
import { ToolError } from './util.js';

/** UNSAFE_TEXT without its global flag: `test` keeps no position between calls. */
const INVISIBLE = new RegExp(UNSAFE_TEXT.source);

/** The name holds a control character or an invisible or direction-changing mark. */
export const holdsInvisible = (name: string): boolean => INVISIBLE.test(name);

/** Each such character in `name`, as U+XXXX (the characters themselves would not show). */
const marksIn = (name: string): string[] => [
  ...new Set(
    [...name]
      .filter(holdsInvisible)
      .map((c) => `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`),
  ),
];

/** Refuse new names (files or folders a call would create) that hold such a character. */
export function refuseInvisibleNames(names: readonly string[]): void {
  const bad = names.find(holdsInvisible);
  if (bad === undefined) return;
  throw new ToolError(
    `Refused: a new name holds an invisible, direction-changing or control character (${marksIn(bad).join(', ')}), so it would read differently in a file manager or terminal. Nothing was created. Name files and folders with visible characters only.`,
  );
}
