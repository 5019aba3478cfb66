// What a paired device is shown of a file (task.file, task.diff) or given of one (a download) never
// holds a secret Errand knows (SECURITY.md: secrets never go to a client). A project's .env with
// the API key, or a file the agent wrote it into, is shown redacted, and not given out whole.
import type { FileHandle } from 'node:fs/promises';
import { Transform } from 'node:stream';
import type { DiffHunk, FileView } from '../../../shared/src/index.js';
import { type KnownSecrets, REDACTED, redactText } from './redact.js';
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

/** Bytes read at a time, and how far each read reaches back into the one before (an encoded secret across the seam). */
const CHUNK = 1 << 20;
const SEAM = 8192;

/**
 * Does the open file hold a known secret, in any form redaction finds? Read in pieces that overlap,
 * so a file of any size is looked at whole without being held whole.
 */
export async function fileHoldsSecret(handle: FileHandle, size: number, known: KnownSecrets): Promise<boolean> {
  const secrets = usable(known);
  if (none(secrets)) return false;
  const buf = Buffer.alloc(Math.min(size, CHUNK + SEAM));
  for (let start = 0; start < size; start += CHUNK) {
    const from = Math.max(0, start - SEAM);
    const want = Math.min(size, start + CHUNK) - from;
    let got = 0;
    while (got < want) {
      const { bytesRead } = await handle.read(buf, got, want - got, from + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (redactedText(buf.subarray(0, got), secrets) !== undefined) return true;
  }
  return false;
}

/** A download this large is looked at as it is sent (secretGuard), not whole before it starts. */
export const SCAN_BEFORE_BYTES = 64 * 1024 * 1024;

/**
 * Passes a file's bytes on, each piece looked at first (with the end of the one before, held back
 * until then, so a secret across the seam is seen whole): one holding a known secret fails the
 * stream, which cuts the download before that piece leaves.
 */
export function secretGuard(known: KnownSecrets): Transform {
  const secrets = usable(known);
  let held = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const piece = held.length ? Buffer.concat([held, chunk]) : chunk;
      if (!none(secrets) && redactedText(piece, secrets) !== undefined)
        return done(new Error('the file holds a secret Errand knows; the download was cut'));
      const keep = Math.min(SEAM, piece.length);
      held = Buffer.from(piece.subarray(piece.length - keep));
      done(null, piece.subarray(0, piece.length - keep));
    },
    flush(done) {
      done(null, held);
    },
  });
}
