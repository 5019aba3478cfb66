// Files a shell command's arguments name inside the allowed folders: the script of `bash run.sh`,
// the program of `python3 job.py`, the input of `sort data.csv`. The agent can rewrite them without
// asking (fs_write), so an approval, and an "allow for this task" grant of the exact argv, cover
// only the content they had when shown: a changed file makes a different action, asked again, and
// one changed between the approval and the start (another task) stops the command unrun.
import fs from 'node:fs';
import path from 'node:path';
import { sha256Of } from './resolve-program.js';
import { type ArgumentFile, pathCandidates } from './shell-grants.js';

import { ToolError } from './util.js';

export type { ArgumentFile };

/**
 * Files are hashed while they add up to this; past it (a large file, many files) one is known by
 * its inode and change time instead, which no write can keep.
 */
const HASHED_BYTES = 16 * 1024 * 1024;
/** At most this many arguments, and words of one, are looked at; at most this many names in all (each is a path lookup). */
const MAX_ARGUMENTS = 256;
const MAX_CANDIDATES = 1024;

/**
 * What an argument may name as a file: itself, an option's value, and the words of a script given
 * as one argument (`sh -c "bash run.sh"`, `python3 -c "exec(open('job.py').read())"`), split at
 * spaces, quotes and shell or call punctuation. Naming too much only binds more files.
 */
function candidatesIn(arg: string): string[] {
  const out = pathCandidates(arg);
  if (/[\s'"();|&<>`,]/.test(arg))
    for (const word of arg.split(/[\s'"();|&<>`,]+/).slice(0, MAX_ARGUMENTS)) out.push(...pathCandidates(word));
  return out;
}

/** The regular files that argv's arguments (and option values: --input=x, -fx) name inside the allowed folders. */
export async function argumentFiles(
  argv: string[],
  cwd: string,
  inside: (real: string) => boolean,
): Promise<ArgumentFile[]> {
  const seen = new Set<string>();
  const files: ArgumentFile[] = [];
  let hashBudget = HASHED_BYTES;
  let looked = 0;
  for (const arg of argv.slice(1, 1 + MAX_ARGUMENTS)) {
    for (const candidate of candidatesIn(arg)) {
      if (++looked > MAX_CANDIDATES) return files;
      let real: string;
      let st: fs.BigIntStats;
      try {
        real = fs.realpathSync(path.resolve(cwd, candidate));
        st = fs.statSync(real, { bigint: true });
      } catch {
        continue; // no such file: a plain word
      }
      if (!st.isFile() || seen.has(real) || !inside(real)) continue;
      seen.add(real);
      const hashed = st.size <= BigInt(hashBudget);
      if (hashed) hashBudget -= Number(st.size);
      files.push({ path: real, identity: await identityOf(real, st, hashed) });
    }
  }
  return files;
}

async function identityOf(real: string, st: fs.BigIntStats, hashed: boolean): Promise<string> {
  const byInode = `file:${st.dev}:${st.ino}:${st.size}:${st.ctimeNs}`;
  if (!hashed) return byInode;
  // One the daemon cannot read (mode 000: the `chmod` that fixes it names it) is known by inode.
  return sha256Of(real).then(
    (hex) => `sha256:${hex}`,
    () => byInode,
  );
}

/**
 * Just before the command starts: are the files its arguments name still as shown? Throws a
 * ToolError saying nothing was run when one changed, went or appeared.
 */
export async function recheckArgumentFiles(
  shown: ArgumentFile[],
  argv: string[],
  cwd: string,
  inside: (real: string) => boolean,
): Promise<void> {
  const now = await argumentFiles(argv, cwd, inside).catch(() => undefined);
  const same =
    now !== undefined &&
    now.length === shown.length &&
    now.every((f, i) => f.path === shown[i].path && f.identity === shown[i].identity);
  if (!same) {
    const changed = shown.find((f, i) => now?.[i]?.path !== f.path || now[i].identity !== f.identity);
    throw new ToolError(
      `${changed?.path ?? 'A file this command names'} changed since this command was checked (it is inside the allowed folders); nothing was run. Call it again to have the new content checked.`,
    );
  }
}
