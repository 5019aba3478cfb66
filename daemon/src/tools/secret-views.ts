// What a paired device is shown of a file (task.file, task.diff) or given of one (a download) never
// holds a secret Errand knows (SECURITY.md: secrets never go to a client). A project's .env with
// the API key, or a file the agent wrote it into, is shown redacted, and not given out whole.
import type { FileHandle } from 'node:fs/promises';
import { Transform } from 'node:stream';
import type { DiffHunk, FileView } from '../../../shared/src/index.js';
import { type KnownSecrets, REDACTED, redactText, scatteredReach, secretReach } from './redact.js';
import { holdsSecret, redactedText } from './secret-files.js';

/** Shorter secrets are not redacted (as in secret-files.ts). */
const MIN_SECRET = 8;

const usable = (secrets: KnownSecrets): KnownSecrets => ({
  values: secrets.values.filter((v) => v.length >= MIN_SECRET),
  tokenHashes: secrets.tokenHashes,
});
const none = (s: KnownSecrets) => !s.values.length && !s.tokenHashes.size;

const holds = (text: string, secrets: KnownSecrets) => redactText(text, secrets) !== text;

/**
 * Each string redacted, looked at one by one only when all of them together hold a secret. One
 * split over several of them (a key broken over lines) is found only together: then none is shown.
 */
function redactAll(texts: string[], secrets: KnownSecrets): string[] {
  if (!holds(texts.join('\n'), secrets)) return texts;
  const each = texts.map((t) => redactText(t, secrets));
  return holds(each.join('\n'), secrets) ? each.map(() => REDACTED) : each;
}

/**
 * `view` of the file `data` with the known secrets redacted: its text, its table's cells; an image
 * whose bytes hold one is not shown (its bytes go whole to the phone otherwise).
 */
export function redactedView(view: FileView, data: Buffer, known: KnownSecrets): FileView {
  const secrets = usable(known);
  if (none(secrets)) return view;
  switch (view.kind) {
    case 'text':
    case 'markdown':
      return { ...view, text: redactText(view.text, secrets) };
    case 'table':
      return {
        ...view,
        sheets: view.sheets.map((s) => ({
          ...s,
          name: redactText(s.name, secrets),
          rows: s.rows.map((r) => redactAll(r, secrets)),
        })),
      };
    case 'image':
      return holdsSecret(data, secrets) ? { kind: 'binary', name: view.name, size: data.length } : view;
    default:
      return view;
  }
}

/** A diff's lines with the known secrets redacted (each keeps its leading +, - or space). */
export function redactedHunks(hunks: DiffHunk[], known: KnownSecrets): DiffHunk[] {
  const secrets = usable(known);
  if (none(secrets)) return hunks;
  return hunks.map((h) => {
    const lines = redactAll(h.lines, secrets);
    return lines === h.lines ? h : { ...h, lines };
  });
}

/**
 * Bytes looked at in one go: redacting a piece takes a few milliseconds (tens for base64 text with
 * --no-opt), and other clients are answered between pieces.
 */
const PIECE = 64 * 1024;
/** How far each look reaches back, as bytes, into those before it (a secret escaped or encoded across the seam). */
const SEAM = 8192;

const BLANK = Buffer.from(' ');

/**
 * Looks at bytes arriving piece by piece as redaction looks at them whole. Each piece is looked at
 * with the bytes held back before it (SEAM: a secret as is, escaped or encoded across the seam), and
 * before those with the last letters and digits of everything earlier, as letters alone: redaction
 * also finds a secret scattered with any run of other characters between its letters (blanks,
 * lines), and that is all it needs of the text before. The letters are kept apart by a blank, which
 * scattered matching skips and nothing else matches across.
 * Known limit, for bytes sent as they are looked at (secretGuard): of a secret scattered over more
 * than SEAM bytes, the letters before the seam have left when the rest is seen and the send is cut.
 * Before a download starts the file is looked at whole, so such a file is refused outright.
 */
class PieceCheck {
  private readonly secrets: KnownSecrets;
  private readonly seam: number;
  private readonly letters: number;
  /** The last `letters` letters and digits before `held`. */
  private lettersBefore = Buffer.alloc(0);
  private held = Buffer.alloc(0);
  constructor(known: KnownSecrets) {
    this.secrets = usable(known);
    this.seam = Math.max(SEAM, secretReach(this.secrets));
    this.letters = scatteredReach(this.secrets);
  }

  /**
   * Take the next piece: undefined when what arrived so far holds a known secret, else the bytes that
   * can go on (no longer needed to see one later).
   */
  next(piece: Buffer): Buffer | undefined {
    const all = this.held.length ? Buffer.concat([this.held, piece]) : piece;
    if (none(this.secrets)) return all;
    const text = this.lettersBefore.length ? Buffer.concat([this.lettersBefore, BLANK, all]) : all;
    if (redactedText(text, this.secrets) !== undefined) return undefined;
    const keep = Math.min(all.length, this.seam);
    const passed = all.subarray(0, all.length - keep);
    const letters = Buffer.from(passed.toString('latin1').replace(/[^A-Za-z0-9]+/g, ''), 'latin1');
    const joined = letters.length >= this.letters ? letters : Buffer.concat([this.lettersBefore, letters]);
    this.lettersBefore = Buffer.from(joined.subarray(Math.max(0, joined.length - this.letters)));
    this.held = Buffer.from(all.subarray(all.length - keep));
    return passed;
  }

  /** The bytes still held back, once the last piece was taken. */
  rest(): Buffer {
    return this.held;
  }
}

/**
 * Does the open file hold a known secret, in any form redaction finds? Read in pieces (PieceCheck),
 * so a file of any size is looked at whole without being held whole, and the event loop is let go
 * between pieces.
 */
export async function fileHoldsSecret(handle: FileHandle, size: number, known: KnownSecrets): Promise<boolean> {
  const check = new PieceCheck(known);
  const buf = Buffer.alloc(Math.min(size, PIECE));
  for (let start = 0; start < size; start += PIECE) {
    const want = Math.min(size - start, PIECE);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await handle.read(buf, got, want - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (check.next(buf.subarray(0, got)) === undefined) return true;
    if (got < want) break; // shrank while read: what is left was looked at
    await new Promise((resolve) => setImmediate(resolve));
  }
  return false;
}

/** A download this large is looked at as it is sent (secretGuard), not whole before it starts. */
export const SCAN_BEFORE_BYTES = 64 * 1024 * 1024;

/**
 * Passes a file's bytes on, each piece looked at first (PieceCheck: the end of what came before is
 * held back until then, so a secret across the seam is seen whole): one holding a known secret fails
 * the stream, which cuts the download before that piece leaves.
 */
export function secretGuard(known: KnownSecrets): Transform {
  const check = new PieceCheck(known);
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const passed = check.next(chunk);
      if (passed === undefined) return done(new Error('the file holds a secret Errand knows; the download was cut'));
      done(null, passed);
    },
    flush(done) {
      done(null, check.rest());
    },
  });
}
