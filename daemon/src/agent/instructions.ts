// Instructions the user keeps: the conventional files of the folders the agent works in
// (CLAUDE.md, AGENTS.md in the workspace and each allowed folder) and the personal instructions
// file (home/instructions.md, edited from the phone). They go into the system prompt's cached
// prefix, so they are read once per task and stay byte-identical while unchanged.
import fsp from 'node:fs/promises';
import path from 'node:path';

export const INSTRUCTION_FILES = ['CLAUDE.md', 'AGENTS.md'] as const;
/** Per file, and for all of them: instructions are guidance, not documents. */
const MAX_FILE_CHARS = 20_000;
const MAX_TOTAL_CHARS = 60_000;

export interface Instructions {
  /** The user's personal instructions (phone: Settings → Memory). */
  personal: string;
  /** Folder files, in a stable order: [path, text]. */
  folders: Array<{ path: string; text: string }>;
}

/** A regular file, not a link (a link could pull in a file outside the folder), capped. */
async function readPlain(file: string): Promise<string | undefined> {
  try {
    const st = await fsp.lstat(file);
    if (!st.isFile() || st.size > MAX_FILE_CHARS * 4) return undefined;
    const text = (await fsp.readFile(file, 'utf8')).slice(0, MAX_FILE_CHARS).trim();
    return text || undefined;
  } catch {
    return undefined;
  }
}

export async function readInstructions(opts: { personalFile: string; folders: string[] }): Promise<Instructions> {
  const personal = (await readPlain(opts.personalFile)) ?? '';
  const folders: Instructions['folders'] = [];
  let total = personal.length;
  for (const folder of [...new Set(opts.folders.map((f) => path.resolve(f)))]) {
    for (const name of INSTRUCTION_FILES) {
      const file = path.join(folder, name);
      const text = await readPlain(file);
      if (!text || total + text.length > MAX_TOTAL_CHARS) continue;
      total += text.length;
      folders.push({ path: file, text });
    }
  }
  return { personal, folders };
}

/** The prompt text for them; empty when there are none. */
export function instructionsText(i: Instructions | undefined): string {
  if (!i || (!i.personal && !i.folders.length)) return '';
  const parts: string[] = [
    'Instructions the user keeps for you (from the user, unlike tool output; follow them unless the task says otherwise):',
  ];
  if (i.personal) parts.push('', '<personal-instructions>', i.personal, '</personal-instructions>');
  for (const f of i.folders) parts.push('', `<folder-instructions path="${f.path}">`, f.text, '</folder-instructions>');
  return parts.join('\n');
}
