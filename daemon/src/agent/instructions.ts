// Instructions the user keeps: the conventional files of the folders the agent works in
// (CLAUDE.md, AGENTS.md in the workspace and each allowed folder) and the personal instructions
// file (home/instructions.md, edited from the phone). They go into the system prompt's cached
// prefix, so they are read once per task and stay byte-identical while unchanged. Their text goes
// to the model without the secrets Errand knows (instructionsText's redact), as a file read by a
// tool does; a file with other hard links is skipped, saying so, as the tools refuse one.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

export const INSTRUCTION_FILES = ['CLAUDE.md', 'AGENTS.md'] as const;
/** Per file, and for all of them: instructions are guidance, not documents. */
export const MAX_INSTRUCTION_CHARS = 20_000;
const MAX_FILE_CHARS = MAX_INSTRUCTION_CHARS;
const MAX_TOTAL_CHARS = 60_000;

export interface Instructions {
  /** The user's personal instructions (phone: Settings → Memory). */
  personal: string;
  /** Folder files, in a stable order: [path, text]. */
  folders: Array<{ path: string; text: string }>;
  /**
   * Of the files read in, those a task wrote with untrusted text in its view (noted in the taint
   * ledger): their text may carry that content's instructions, so the task starts tainted.
   */
  untrusted: string[];
  /** Files not read in, each with why (a sentence for the model, which may tell the user). */
  skipped?: string[];
}

/** What a file was when last read: read again only when one of these changed. */
interface Seen {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  text: string | undefined;
}
const seen = new Map<string, Seen>();
/** Files remembered at most (personal file + two per folder, for a generous number of folders). */
const MAX_SEEN = 256;

/**
 * A regular file, not a link (a link could pull in a file outside the folder), capped. Checked with
 * a synchronous lstat that returns nothing for a missing file (most folders have none: no error is
 * built), and read again only when it changed since the last task.
 */
async function readPlain(file: string, skipped: string[]): Promise<string | undefined> {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(file, { throwIfNoEntry: false });
  } catch {
    st = undefined;
  }
  if (!st?.isFile() || st.size > MAX_FILE_CHARS * 4) {
    seen.delete(file);
    return undefined;
  }
  // Another name of the same file may be anywhere (Errand's own config.json): not followed, as the tools refuse it.
  if (st.nlink > 1) {
    seen.delete(file);
    skipped.push(
      `${file} was not read: it has ${st.nlink} hard links, and another link may be outside the allowed folders. Tell the user if its instructions matter: a copy of the file (one link) would be read.`,
    );
    return undefined;
  }
  const before = seen.get(file);
  if (
    before &&
    before.ino === st.ino &&
    before.size === st.size &&
    before.mtimeMs === st.mtimeMs &&
    before.ctimeMs === st.ctimeMs
  )
    return before.text;
  let text: string | undefined;
  try {
    text = (await fsp.readFile(file, 'utf8')).slice(0, MAX_FILE_CHARS).trim() || undefined;
  } catch {
    return undefined;
  }
  seen.delete(file);
  if (seen.size >= MAX_SEEN) seen.delete(seen.keys().next().value!);
  seen.set(file, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, text });
  return text;
}

/** A file's names as given and by its folder's real path (the tools note real paths). */
function namesOf(file: string): string[] {
  try {
    const real = path.join(fs.realpathSync(path.dirname(file)), path.basename(file));
    return real === file ? [file] : [file, real];
  } catch {
    return [file];
  }
}

export async function readInstructions(opts: {
  personalFile: string;
  folders: string[];
  /** Is any of these names of a file noted as written from untrusted content (TaintedFiles.readBy)? */
  noted?: (names: string[]) => boolean;
}): Promise<Instructions> {
  const untrusted: string[] = [];
  const skipped: string[] = [];
  const check = (file: string) => {
    if (opts.noted?.(namesOf(file))) untrusted.push(file);
  };
  const personal = (await readPlain(opts.personalFile, skipped)) ?? '';
  if (personal) check(opts.personalFile);
  const folders: Instructions['folders'] = [];
  let total = personal.length;
  for (const folder of [...new Set(opts.folders.map((f) => path.resolve(f)))]) {
    for (const name of INSTRUCTION_FILES) {
      const file = path.join(folder, name);
      const text = await readPlain(file, skipped);
      if (!text || total + text.length > MAX_TOTAL_CHARS) continue;
      total += text.length;
      folders.push({ path: file, text });
      check(file);
    }
  }
  return { personal, folders, untrusted, ...(skipped.length ? { skipped } : {}) };
}

/**
 * The prompt text for them, with `redact` taking out the secrets Errand knows (a key pasted into
 * CLAUDE.md never reaches the model); empty when there are none.
 */
export function instructionsText(i: Instructions | undefined, redact: (text: string) => string = (t) => t): string {
  if (!i || (!i.personal && !i.folders.length && !i.skipped?.length)) return '';
  const parts: string[] = [
    'Instructions the user keeps for you (from the user, unlike tool output; follow them unless the task says otherwise):',
  ];
  if (i.personal) parts.push('', '<personal-instructions>', i.personal, '</personal-instructions>');
  for (const f of i.folders) parts.push('', `<folder-instructions path="${f.path}">`, f.text, '</folder-instructions>');
  if (i.skipped?.length) parts.push('', ...i.skipped);
  return redact(parts.join('\n'));
}
