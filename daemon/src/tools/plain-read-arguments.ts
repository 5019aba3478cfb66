// What the arguments of a plain read (cat, wc, cksum …) may name for an "allow for this task" grant
// of its program to cover the call (shell-grants.ts): a file or folder really inside the allowed
// folders, not Errand's own state, and not a file with other hard links (one may be outside the
// allowed folders, which is why fs_read refuses such a file: roots.ts). Anything else makes the call
// exact, so it is asked about. A wide grant binds no file, so the same is checked again just before
// the command starts: a name linked elsewhere since the check stops it unrun.
import fs from 'node:fs';
import path from 'node:path';
import { isInside, type Roots } from './roots.js';
import { pathCandidates } from './shell-grants.js';
import { clip, ToolError } from './util.js';

/** Why this argument does not count as inside the allowed folders; undefined when it does. */
export function notInsideBecause(candidate: string, cwd: string, roots: Roots): string | undefined {
  const abs = path.resolve(cwd, candidate);
  let real: string;
  try {
    real = fs.realpathSync(abs);
  } catch {
    return missingName(abs) ? undefined : 'it is a link to nothing, or cannot be looked up';
  }
  if (!roots.usable().some((r) => isInside(r, real))) return `it leads to ${real}, outside the allowed folders`;
  if (roots.isPrivate(real)) return "it is in Errand's own state folder";
  const links = hardLinks(real);
  return links > 1
    ? `it is a file with ${links} hard links, and another may be outside the allowed folders`
    : undefined;
}

/** Only a name that is not there at all is a plain word (a dangling link is not). */
function missingName(abs: string): boolean {
  try {
    return fs.lstatSync(abs, { throwIfNoEntry: false }) === undefined;
  } catch {
    return false;
  }
}

/** How many names a regular file has (folders count as one: they cannot be hard-linked). */
export function hardLinks(real: string): number {
  try {
    const st = fs.statSync(real, { throwIfNoEntry: false });
    return st?.isFile() ? st.nlink : 1;
  } catch {
    return 1;
  }
}

/**
 * Just before a command run under a wide grant starts: every argument still counts as inside.
 * Throws a ToolError saying nothing was run, as the other checks at the start do.
 */
export function recheckPlainReadArguments(argv: string[], cwd: string, roots: Roots): void {
  for (const arg of argv.slice(1)) {
    for (const candidate of pathCandidates(arg)) {
      const why = notInsideBecause(candidate, cwd, roots);
      if (why)
        throw new ToolError(
          `"${clip(candidate, 200)}" changed since this command was checked (${why}); nothing was run. Call it again to have it shown for approval.`,
        );
    }
  }
}
