// Who chose a thread's title, for private pushes (payload.ts TitleSource). The thread store keeps
// the title, not who gave it, so it is told from the texts it could have come from: a title that
// could have been cut from a message in the thread, or from the task of a schedule that runs there
// (agent/records.ts titleFrom), is the person's message: a command, a host name, a password. Any
// other is a name the person gave. When in doubt, a message: the lock screen is public.
import { titleFrom } from '../agent/records.js';
import { HIDDEN_TEXT, UNSAFE_TEXT } from '../util/text.js';
import type { TitleSource } from './payload.js';

const REDACTED = '[redacted]';

/** Only what a reader sees as characters: no whitespace, control, direction or hidden marks. */
const bare = (s: string) => s.replace(UNSAFE_TEXT, '').replace(HIDDEN_TEXT, '').replace(/\s+/g, '');

/**
 * Whether `title` may have been cut from `text`: its pieces around "[redacted]" appear in the text in
 * order, the first at its start. Loose on purpose, so that titles made before secrets were taken out
 * ahead of the cut, or from a schedule's task with its line breaks removed, still count.
 */
export function mayBeCutFrom(title: string, text: string): boolean {
  if (title === titleFrom(text)) return true;
  const pieces = title.replace(/…$/, '').split(REDACTED).map(bare);
  if (pieces.every((p) => p === '')) return true;
  const source = bare(text);
  if (!source.startsWith(pieces[0])) return false;
  let at = pieces[0].length;
  for (const piece of pieces.slice(1)) {
    const found = source.indexOf(piece, at);
    if (found < 0) return false;
    at = found + piece.length;
  }
  return true;
}

export interface TitleFacts {
  title: string | undefined;
  /** What the person typed there: the thread's messages and the tasks of schedules that run in it. */
  texts: readonly string[];
  /** The agent named it (a schedule made after reading untrusted content). */
  modelNamed: boolean;
}

export function titleSourceOf(f: TitleFacts): TitleSource {
  if (f.modelNamed) return 'model';
  const { title } = f;
  if (!title || f.texts.length === 0) return 'message';
  return f.texts.some((t) => mayBeCutFrom(title, t)) ? 'message' : 'person';
}
