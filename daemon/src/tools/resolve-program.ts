// Which file a shell command's program is. A name without a slash is looked up on the PATH the
// command runs with, as execvp would; a name with one is taken relative to the working folder. The
// command then runs that absolute path, so nothing is looked up again between the check and the run.
// What runs keeps argv[0]'s own name (the folder's real location joined with it): a multi-call
// program (busybox, coreutils) picks what to do by that name.
//
// A program the agent could have written (the file, or a link on the way to it, is inside the
// allowed folders) is bound to its content: the action shows its SHA-256, and the file is hashed
// again just before it runs.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ToolError } from './util.js';

export interface ResolvedProgram {
  /** The absolute path that runs: the real location of its folder, joined with the name. */
  path: string;
  /** The file it is once every link is followed. */
  real: string;
  /**
   * The agent can change what runs: the file or a link on the way to it is inside the allowed
   * folders, or it is a script whose interpreter (`#!`, also through `env`) is.
   */
  writable: boolean;
  /** SHA-256 of the file's content (hex), for a writable program; with the interpreter's for a script. */
  sha256?: string;
  /** A script's interpreter inside the allowed folders (its real path). */
  interpreter?: string;
}

/** The interpreter a script names on its `#!` line (through `env`, looked up on `pathVar`), if any. */
function interpreterOf(file: string, pathVar: string, cwd: string): string | undefined {
  let head: Buffer;
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      head = Buffer.alloc(256);
      head = head.subarray(0, fs.readSync(fd, head, 0, 256, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  if (head[0] !== 0x23 || head[1] !== 0x21) return undefined; // "#!"
  const words = head.toString('latin1').slice(2).split('\n')[0].trim().split(/\s+/);
  let name = words[0];
  if (!name) return undefined;
  if (path.basename(name) === 'env') {
    name = words.slice(1).find((w) => !w.startsWith('-') && !w.includes('=')) ?? '';
    if (!name) return undefined;
    if (!name.includes('/')) return onPath(name, pathVar, cwd);
  }
  return path.isAbsolute(name) && executableFile(name) ? name : undefined;
}

/** As execvp: the first folder on `pathVar` holding an executable file `name`; an empty entry is `cwd`. */
function onPath(name: string, pathVar: string, cwd: string): string | undefined {
  for (const dir of pathVar.split(path.delimiter)) {
    const p = path.resolve(cwd, dir, name);
    if (executableFile(p)) return p;
  }
  return undefined;
}

/** Links followed at most (as the kernel's limit). */
const MAX_LINKS = 40;

function executableFile(p: string): boolean {
  try {
    if (!fs.statSync(p).isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Follow `candidate` (absolute) link by link; `inside` says whether a real path is in the allowed folders. */
function follow(candidate: string, inside: (real: string) => boolean): Omit<ResolvedProgram, 'sha256'> {
  const runPath = path.join(fs.realpathSync(path.dirname(candidate)), path.basename(candidate));
  let p = runPath;
  let writable = false;
  for (let hops = 0; hops <= MAX_LINKS; hops++) {
    // Each entry on the way, named through its folder's real location: the entry itself may be replaced.
    p = path.join(fs.realpathSync(path.dirname(p)), path.basename(p));
    if (inside(p)) writable = true;
    if (!fs.lstatSync(p).isSymbolicLink()) return { path: runPath, real: p, writable };
    p = path.resolve(path.dirname(p), fs.readlinkSync(p));
  }
  throw new ToolError(`${candidate} is a chain of more than ${MAX_LINKS} links.`);
}

export async function sha256Of(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  // No link is followed at the open: `file` is the end of the chain that was checked.
  const fh = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    for await (const chunk of fh.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

/**
 * Resolve argv[0] against `pathVar` (the PATH the command runs with) and `cwd`. Throws a ToolError
 * naming the program when there is none.
 */
export async function resolveProgram(
  name: string,
  opts: { pathVar: string; cwd: string; inside: (real: string) => boolean },
): Promise<ResolvedProgram> {
  let candidate: string | undefined;
  if (name.includes('/')) {
    const abs = path.resolve(opts.cwd, name);
    if (!executableFile(abs)) throw new ToolError(`There is no program at ${name} (no executable file there).`);
    candidate = abs;
  } else {
    candidate = onPath(name, opts.pathVar, opts.cwd);
    if (!candidate) throw new ToolError(`No program named ${name} on this computer's PATH.`);
  }
  let found: Omit<ResolvedProgram, 'sha256'>;
  try {
    found = follow(candidate, opts.inside);
  } catch (err) {
    if (err instanceof ToolError) throw err;
    throw new ToolError(`The program ${name} could not be looked at: ${(err as Error).message}`);
  }
  // A script runs its interpreter: one the agent can change is bound too (one level, as the kernel).
  let interpreter: string | undefined;
  const named = interpreterOf(found.real, opts.pathVar, opts.cwd);
  if (named) {
    try {
      const i = follow(named, opts.inside);
      if (i.writable) interpreter = i.real;
    } catch {
      /* a broken link: the kernel will refuse to run it */
    }
  }
  if (!found.writable && !interpreter) return found;
  try {
    let sha256 = await sha256Of(found.real);
    if (interpreter)
      sha256 = crypto
        .createHash('sha256')
        .update(`${sha256}:${await sha256Of(interpreter)}`)
        .digest('hex');
    return { ...found, writable: true, sha256, ...(interpreter ? { interpreter } : {}) };
  } catch (err) {
    throw new ToolError(`The program ${name} (${found.path}) could not be read: ${(err as Error).message}`);
  }
}

/**
 * Just before a writable program runs: is it still the file that was shown (same chain, same
 * content)? Throws a ToolError saying nothing was run when it is not.
 */
export async function recheckProgram(
  shown: ResolvedProgram,
  opts: { cwd: string; inside: (real: string) => boolean; pathVar?: string },
): Promise<void> {
  if (!shown.writable) return;
  let now: ResolvedProgram | undefined;
  try {
    now = await resolveProgram(shown.path, { pathVar: opts.pathVar ?? '', cwd: opts.cwd, inside: opts.inside });
  } catch {
    now = undefined;
  }
  if (
    !now ||
    now.path !== shown.path ||
    now.real !== shown.real ||
    now.sha256 !== shown.sha256 ||
    now.interpreter !== shown.interpreter
  )
    throw new ToolError(
      `The program ${shown.path} changed since this command was checked (it is inside the allowed folders); nothing was run.`,
    );
}
