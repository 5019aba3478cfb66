// Text that came from elsewhere (a phone's device name, a connector's command or tool description)
// printed on the user's terminal: control characters, invisible direction or width marks and every
// other character drawn as nothing (HIDDEN_TEXT says which) are shown as visible escapes, so nothing
// can move the cursor, recolour, hide or reorder what the user is asked to approve, and no text the
// user cannot see is approved along with what they can.
import { HIDDEN_TEXT } from '../util/text.js';

const visible = (ch: string): string => {
  const code = ch.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
};

/** One line for a terminal: every control or invisible formatting character made visible. */
export function forTerminal(text: string): string {
  return text.replace(HIDDEN_TEXT, visible);
}

/** Several lines for a terminal (tool descriptions): line breaks kept, everything else made visible. */
export function linesForTerminal(text: string): string[] {
  return text.split(/\r?\n/).map(forTerminal);
}
