// Who chose a thread's title, for private pushes (payload.ts TitleSource). The thread store keeps
// the title, not who gave it, so it is told from the texts it could have come from: a title that
// could have been cut from a message in the thread, or from the task of a schedule that runs there
// (agent/records.ts titleFrom), is the person's message: a command, a host name, a password. Any
// other is a name the person gave. When in doubt, a message: the lock screen is public.
import { titleFrom } from '../agent/records.js';
import { HIDDEN_TEXT, UNSAFE_TEXT } from '../util/text.js';
import type { TitleSource } from './payload.js';

const REDACTED = '[redacted]';
/** titleFrom's title for a message with no words. */
const EMPTY_TITLE = 'New thread';

/** Only what a reader sees as characters: no whitespace, control, direction or hidden marks. */
const bare = (s: string) => s.replace(UNSAFE_TEXT, '').replace(HIDDEN_TEXT, '').replace(/\s+/g, '');

/** A title as the texts it may come from are searched for: its pieces around "[redacted]", bare. */
export interface TitlePieces {
  title: string;
  pieces: string[];
  /** What every text it may be cut from starts with (bare): the first piece, less a marker the cut split. */
  head: string;
}

export function titlePieces(title: string): TitlePieces {
  const shown = title.replace(/…$/, '');
  const pieces = shown.split(REDACTED).map(bare);
  // A cut inside a marker ("key [redac…") leaves a start of one that is in no text.
  let head = pieces[0];
  if (pieces.length === 1)
    for (let n = REDACTED.length - 1; n > 0; n--)
      if (head.endsWith(REDACTED.slice(0, n))) {
        head = head.slice(0, -n);
        break;
      }
  return { title, pieces, head };
}

/**
 * Whether bare(text) starts with `head`, reading only as much of the text as that takes: a thread's
 * texts are searched at each push of it, and most are not where its title came from.
 */
function bareStartsWith(text: string, head: string): boolean {
  let k = head.length + 64;
  for (;;) {
    // Never between the two halves of a character: bare would keep a lone half.
    if (k < text.length && /[\ud800-\udbff]/.test(text[k - 1])) k++;
    const start = bare(text.slice(0, k));
    if (start.length >= head.length || k >= text.length) return start.startsWith(head);
    k *= 2;
  }
}

/**
 * Whether `title` may have been cut from `text`: its pieces around "[redacted]" appear in the text in
 * order, the first at its start. Loose on purpose, so that titles made before secrets were taken out
 * ahead of the cut, or from a schedule's task with its line breaks removed, still count.
 */
export function mayBeCutFrom(title: string | TitlePieces, text: string): boolean {
  const t = typeof title === 'string' ? titlePieces(title) : title;
  if (t.title === EMPTY_TITLE && titleFrom(text) === EMPTY_TITLE) return true;
  if (t.pieces.every((p) => p === '')) return true;
  // Both tests below need the text to start with the title's first piece: most texts stop here.
  if (!bareStartsWith(text, t.head)) return false;
  if (t.title === titleFrom(text)) return true;
  const source = bare(text);
  if (!source.startsWith(t.pieces[0])) return false;
  let at = t.pieces[0].length;
  for (const piece of t.pieces.slice(1)) {
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
  const pieces = titlePieces(title);
  return f.texts.some((t) => mayBeCutFrom(pieces, t)) ? 'message' : 'person';
}
