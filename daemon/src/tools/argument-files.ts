// Files a shell command's arguments name inside the allowed folders: the script of `bash run.sh`,
// the program of `python3 job.py`, the input of `sort data.csv`. The agent can rewrite them without
// asking (fs_write), so an approval, and an "allow for this task" grant of the exact argv, cover
// only the content they had when shown: a changed file makes a different action, asked again, and
// one changed between the approval and the start (another task) stops the command unrun.
import fs from 'node:fs';
import path from 'node:path';
import { sha256Of } from './resolve-program.js';
import { pathCandidates } from './shell-grants.js';
import { ToolError } from './util.js';

export interface ArgumentFile {
  /** The file's real path. */
  path: string;
  /** `sha256:<hex>` of its content, or for a file too large to read each time `file:<dev>:<ino>:<size>:<ctime ns>`. */
  identity: string;
}

/** Files up to this size are hashed; a larger one is known by its inode and change time (which no write can keep). */
const HASHED_BYTES = 16 * 1024 * 1024;
/** At most this many arguments are looked at, and this many files bound (a grant for more is exact anyway). */
const MAX_ARGUMENTS = 256;
const MAX_FILES = 32;

/** The regular files that argv's arguments (and option values: --input=x, -fx) name inside the allowed folders. */
export async function argumentFiles(
  argv: string[],
  cwd: string,
  inside: (real: string) => boolean,
): Promise<ArgumentFile[]> {
  const seen = new Set<string>();
  const files: ArgumentFile[] = [];
  for (const arg of argv.slice(1, 1 + MAX_ARGUMENTS)) {
    for (const candidate of pathCandidates(arg)) {
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
      if (files.length >= MAX_FILES)
        throw new ToolError(
          `This command names more than ${MAX_FILES} files in the allowed folders; run it on fewer files at a time.`,
        );
      files.push({ path: real, identity: await identityOf(real, st) });
    }
  }
  return files;
}

async function identityOf(real: string, st: fs.BigIntStats): Promise<string> {
  if (st.size > BigInt(HASHED_BYTES)) return `file:${st.dev}:${st.ino}:${st.size}:${st.ctimeNs}`;
  try {
    return `sha256:${await sha256Of(real)}`;
  } catch (err) {
    throw new ToolError(`${real} could not be read: ${(err as Error).message}`);
  }
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
