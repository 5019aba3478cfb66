// store/config-owed.json: what a phone's config command (spend.set, web.set) owes its sender while
// its journal record is not yet written. Written durably BEFORE config.json; the entry is dropped
// once the journal holds the command's reply (config-changes.ts says why and how it is paid).
//
// All reads and writes here are synchronous, as config.json's are: a command's note and its
// config.json write happen in one turn of the event loop, so two commands never interleave them,
// and no write of this file can land over another's newer list.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileDurablySync } from '../util/durable-file.js';

/** One key the command sets (`value`) or removes (no `value`), e.g. ["spend", "dailyUsd"]. */
const ConfigEdit = z.object({ path: z.array(z.string()).min(1), value: z.unknown().optional() });
export type ConfigEdit = z.infer<typeof ConfigEdit>;

const OwedConfigChange = z.object({
  device: z.string(),
  id: z.string(),
  /** The command's fingerprint: the same id reused for another command is refused, not paid. */
  h: z.string().optional(),
  /** The part of the host status the reply is: `{spend}` or `{web}`. */
  part: z.enum(['spend', 'web']),
  edits: z.array(ConfigEdit),
  /** configFingerprint of config.json just before the change: equal at start, the write never landed. */
  before: z.string(),
});
export type OwedConfigChange = z.infer<typeof OwedConfigChange>;
const OwedFile = z.object({ v: z.literal(1), owed: z.array(z.unknown()) });

export const owedConfigFile = (storeDir: string) => path.join(storeDir, 'config-owed.json');

/** What config.json holds, as a short hash of its settings (not its spacing): absent counts as `{}`. */
export function configFingerprint(raw: Record<string, unknown>): string {
  return crypto.createHash('sha256').update(JSON.stringify(raw)).digest('base64url');
}

/** Apply the edits to config.json's settings, in place. */
export function applyEdits(raw: Record<string, unknown>, edits: ConfigEdit[]): void {
  for (const { path: keys, value } of edits) {
    let at = raw;
    for (const k of keys.slice(0, -1)) {
      const next = at[k];
      at[k] = next && typeof next === 'object' && !Array.isArray(next) ? { ...next } : {};
      at = at[k] as Record<string, unknown>;
    }
    const last = keys[keys.length - 1];
    if (value === undefined) delete at[last];
    else at[last] = value;
  }
}

/** The debts in the file, in the order they were noted; unreadable entries are left out (and said). */
export function readOwedConfigChanges(file: string): { owed: OwedConfigChange[]; problem?: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { owed: [] };
    return { owed: [], problem: `it could not be read (${(err as NodeJS.ErrnoException).code ?? err})` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { owed: [], problem: 'it is not valid JSON' };
  }
  const outline = OwedFile.safeParse(doc);
  if (!outline.success) return { owed: [], problem: 'it does not hold a list of owed changes' };
  const owed = outline.data.owed.flatMap((o) => {
    const one = OwedConfigChange.safeParse(o);
    return one.success ? [one.data] : [];
  });
  const bad = outline.data.owed.length - owed.length;
  return bad ? { owed, problem: `${bad} of its ${outline.data.owed.length} entries could not be read` } : { owed };
}

/** Replace the list durably (0600); an empty list removes the file. */
export function writeOwedConfigChanges(file: string, owed: OwedConfigChange[]): void {
  if (owed.length) writeFileDurablySync(file, JSON.stringify({ v: 1, owed }), 0o600);
  // Not made durable: a debt left behind is paid already (the journal holds its reply), dropped at start.
  else fs.rmSync(file, { force: true });
}

/** Take one debt off the list: its config.json write failed, so the command changed nothing. */
export function withdrawOwedConfigChange(file: string, c: Pick<OwedConfigChange, 'device' | 'id'>): void {
  // On a full disk a smaller list may not be writable; with that debt alone the file is removed, which is.
  writeOwedConfigChanges(
    file,
    readOwedConfigChanges(file).owed.filter((o) => o.device !== c.device || o.id !== c.id),
  );
}

/** A damaged file is kept beside itself for the person, never read as empty and written over. */
export function moveAsideOwedConfigChanges(file: string): string {
  const movedTo = `${file}.damaged-${Date.now()}`;
  fs.renameSync(file, movedTo);
  return movedTo;
}
