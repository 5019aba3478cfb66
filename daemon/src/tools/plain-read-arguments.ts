// What the arguments of a plain read (cat, wc, cksum …) may name for an "allow for this task" grant
// of its program to cover the call (shell-grants.ts): a file or folder really inside the allowed
// folders, not Errand's own state, and not a file with other hard links (one may be outside the
// allowed folders, which is why fs_read refuses such a file: roots.ts). Anything else makes the call
// exact, so it is asked about. A reader that walks folders (grep -r, rg: walking-readers.ts) reads
// every file in them, so no file there may have other hard links either (folder-hard-links.ts).
// A wide grant binds no file, so the same is checked again just before the command starts: a name
// linked elsewhere since the check stops it unrun.
import fs from 'node:fs';
import path from 'node:path';
import { type HardLinksFound, hardLinkedUnder, WALK_ENTRIES_MAX } from './folder-hard-links.js';
import { isInside, type Roots } from './roots.js';
import { pathCandidates } from './shell-grants.js';
import { clip, fmt, ToolError } from './util.js';
import { walksFolders } from './walking-readers.js';

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
 * For a reader that walks folders: the hard-linked files in what it would walk (every argument
 * that is a folder inside the allowed folders, and the cwd, which it walks given no folder).
 * Undefined for other commands. One that walks nothing but the cwd is the common case (grep -r x).
 */
export async function walkedHardLinks(argv: string[], cwd: string, roots: Roots): Promise<HardLinksFound | undefined> {
  if (!walksFolders(argv)) return undefined;
  const folders = [cwd];
  for (const arg of argv.slice(1))
    for (const candidate of pathCandidates(arg)) {
      // One not inside makes the call exact by itself: no need to walk it (it may be `/`).
      if (notInsideBecause(candidate, cwd, roots) !== undefined) continue;
      const real = realFolder(path.resolve(cwd, candidate));
      if (real) folders.push(real);
    }
  return hardLinkedUnder(folders, (p) => hiddenFromCommands(p, roots));
}

/** Whether nothing the walk found keeps the call from a wide grant (no walk: nothing to find). */
export const walkedClean = (found: HardLinksFound | undefined): boolean =>
  !found || (found.complete && found.files.length === 0);

/**
 * Errand's own state, as roots.isPrivate says, except the folders on the way to its workspace
 * (inside the home): the sandbox hides the state from the command but shows it the workspace.
 */
function hiddenFromCommands(p: string, roots: Roots): boolean {
  return roots.isPrivate(p) && !isInside(p, roots.workspace);
}

function realFolder(abs: string): string | undefined {
  try {
    const real = fs.realpathSync(abs);
    return fs.statSync(real).isDirectory() ? real : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Just before a command run under a wide grant starts: every argument still counts as inside, and
 * what a walking reader walks still holds no hard-linked file. Throws a ToolError saying nothing
 * was run, as the other checks at the start do.
 */
export async function recheckPlainReadArguments(argv: string[], cwd: string, roots: Roots): Promise<void> {
  const changed = (what: string, why: string) =>
    new ToolError(
      `${what} changed since this command was checked (${why}); nothing was run. Call it again to have it shown for approval.`,
    );
  for (const arg of argv.slice(1)) {
    for (const candidate of pathCandidates(arg)) {
      const why = notInsideBecause(candidate, cwd, roots);
      if (why) throw changed(`"${clip(candidate, 200)}"`, why);
    }
  }
  const walked = await walkedHardLinks(argv, cwd, roots);
  const linked = walked?.files[0];
  if (linked)
    throw changed(
      `"${clip(linked.path, 200)}"`,
      `it is a file with ${linked.links} hard links in a folder this command reads, and another may be outside the allowed folders`,
    );
  if (walked && !walked.complete)
    throw changed(
      'The folders this command reads',
      `they hold more than ${fmt(WALK_ENTRIES_MAX)} entries, or one could not be listed, so they cannot be checked for hard-linked files`,
    );
}
