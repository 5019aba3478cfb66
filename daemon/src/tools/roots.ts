// Roots: the folders the agent may work in, and the one place that decides whether a path is
// inside them. Resolve with realpath (of the deepest existing ancestor for new paths), check with
// path.relative, refuse `..`, symlink and hardlink escapes, and Errand's own home folder (except
// its workspace) even when a root contains it; a move or delete also refuses a folder that holds
// the home (its parent, or ~). Callers resolve again right before each operation.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ToolError } from './util.js';

export interface RootInfo {
  /** As configured (workspace first). */
  path: string;
  /** realpath, when it exists. */
  real?: string;
  exists: boolean;
  /** Why the root is not usable, when it is not. */
  problem?: string;
}

export interface ResolvedPath {
  /** The real, absolute path (symlinks resolved; for a new path, its deepest existing ancestor's). */
  real: string;
  /** The real root it is inside. */
  root: string;
  /** Path relative to that root ('' for the root itself). */
  rel: string;
  exists: boolean;
  /** The names on the path that do not exist yet (what a write would create), outermost first. */
  missing: string[];
  stat?: fs.Stats;
}

export type Access = 'read' | 'write';

export interface ResolveOptions {
  mustExist?: boolean;
  /** The operation moves, renames or deletes this path: a folder holding Errand's home is refused. */
  takesAway?: boolean;
}

/** A file's identity (device and inode), or undefined when it cannot be read. */
function identity(file: string): string | undefined {
  try {
    const st = fs.statSync(file, { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/** True when `child` is `parent` or inside it (both absolute, real). Never a string prefix test. */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!path.isAbsolute(rel) && rel !== '..' && !rel.startsWith('..' + path.sep));
}

export class Roots {
  private realHome: string;
  private realWorkspace: string | undefined;

  constructor(private readonly opts: { home: string; workspace: string; configured: () => string[] }) {
    this.realHome = path.resolve(opts.home);
  }

  /** Create the workspace (0700) on first run and learn the real paths of home and workspace (at start). */
  init(): void {
    fs.mkdirSync(this.opts.workspace, { recursive: true, mode: 0o700 });
    try {
      fs.chmodSync(this.opts.workspace, 0o700);
    } catch {
      /* not ours to change: the checks below still hold */
    }
    this.realHome = fs.realpathSync(this.opts.home);
    this.realWorkspace = fs.realpathSync(this.opts.workspace);
    this.homeId = identity(this.realHome);
    this.workspaceId = identity(this.realWorkspace);
  }

  private homeId: string | undefined;
  private workspaceId: string | undefined;

  /**
   * Inside the home by identity: `real` (an existing folder or file) or a folder above it is the
   * home folder under another name (a bind mount of it, or of a folder above it, inside a root),
   * and the workspace is not met first. The path test alone (isPrivate) sees only the home's own name.
   */
  private privateByIdentity(real: string): boolean {
    if (!this.homeId) return false;
    for (let dir = real; ; dir = path.dirname(dir)) {
      const id = identity(dir);
      if (id === this.workspaceId) return false;
      if (id === this.homeId) return true;
      if (path.dirname(dir) === dir) return false;
    }
  }

  get workspace(): string {
    return this.realWorkspace ?? this.opts.workspace;
  }

  /** Inside Errand's own home folder but not in its workspace: never reachable through a tool. */
  isPrivate(real: string): boolean {
    return isInside(this.realHome, real) && !(this.realWorkspace && isInside(this.realWorkspace, real));
  }

  /**
   * Errand's home folder itself or a folder that holds it (its parent, ~, a root): moving or deleting
   * it would take the daemon's state, memory and config with it, to where tools may reach them.
   * Also by identity, so another name for one of those folders (a bind mount) holds the home too.
   */
  holdsHome(real: string, stat?: fs.Stats): boolean {
    if (isInside(real, this.realHome)) return true;
    if (!stat?.isDirectory()) return false;
    for (let dir = this.realHome; ; dir = path.dirname(dir)) {
      try {
        const st = fs.statSync(dir);
        if (st.dev === stat.dev && st.ino === stat.ino) return true;
      } catch {
        /* a folder on the home's path that is gone holds nothing */
      }
      if (path.dirname(dir) === dir) return false;
    }
  }

  /** Every root, workspace first, with whether it exists and is usable. */
  list(): RootInfo[] {
    const out: RootInfo[] = [];
    const seen = new Set<string>();
    for (const p of [this.opts.workspace, ...this.opts.configured()]) {
      const abs = path.resolve(p);
      let real: string | undefined;
      let problem: string | undefined;
      try {
        real = fs.realpathSync.native(abs);
        if (!fs.statSync(real).isDirectory()) problem = 'not a folder';
        else if (this.isPrivate(real)) problem = "inside Errand's own state folder";
      } catch {
        problem = 'does not exist';
      }
      if (real && seen.has(real)) continue;
      if (real) seen.add(real);
      out.push({ path: abs, real, exists: problem !== 'does not exist', problem });
    }
    return out;
  }

  /** Real paths of the usable roots. */
  usable(): string[] {
    return this.list()
      .filter((r) => !r.problem && r.real)
      .map((r) => r.real!);
  }

  /**
   * Resolve a path the model gave (absolute, ~/…, or relative to the workspace) for an operation.
   * Throws ToolError with a sentence for the model when the path is refused.
   */
  async resolve(input: unknown, access: Access, opts: ResolveOptions = {}): Promise<ResolvedPath> {
    if (typeof input !== 'string' || input.trim() === '') throw new ToolError('A path is required.');
    if (input.includes('\0')) throw new ToolError('The path contains a NUL character.');
    if (input.split(/[\\/]+/).includes('..')) {
      throw new ToolError(
        `Refused "${input}": paths may not contain "..". Use an absolute path inside an allowed folder.`,
      );
    }
    const roots = this.usable();
    const allowed = () => `Allowed folders: ${roots.join(', ') || '(none)'}.`;
    const expanded = input === '~' || input.startsWith('~/') ? path.join(os.homedir(), input.slice(1)) : input;
    const abs = path.isAbsolute(expanded) ? path.normalize(expanded) : path.join(this.workspace, expanded);

    // Deepest existing ancestor (lstat: a dangling symlink exists as a link).
    let existing = abs;
    const rest: string[] = [];
    for (;;) {
      try {
        fs.lstatSync(existing);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR')
          throw new ToolError(`Cannot inspect "${input}": ${(err as Error).message}`);
        const parent = path.dirname(existing);
        if (parent === existing) break;
        rest.unshift(path.basename(existing));
        existing = parent;
      }
    }
    let realBase: string;
    try {
      // Blocking, like the lstat above: one lookup per folder (microseconds), where the async call
      // waits its turn in a thread pool that fsyncs keep busy.
      realBase = fs.realpathSync.native(existing);
    } catch {
      throw new ToolError(`Refused "${input}": it is a symbolic link whose target does not exist.`);
    }
    const real = path.join(realBase, ...rest);
    const root = roots.find((r) => isInside(r, real));
    if (!root) {
      const viaLink =
        realBase !== existing ? ` (it leads to ${real} through a symbolic link)` : real !== input ? ` (${real})` : '';
      throw new ToolError(`Refused "${input}": it is outside the folders you may use${viaLink}. ${allowed()}`);
    }
    if (this.isPrivate(real) || this.privateByIdentity(realBase))
      throw new ToolError(`Refused "${input}": that is Errand's own state folder, which tools may never touch.`);

    const exists = rest.length === 0;
    if (!exists && opts.mustExist) throw new ToolError(`"${input}" does not exist.`);
    let stat: fs.Stats | undefined;
    if (exists) {
      stat = fs.statSync(real);
      if (opts.takesAway && this.holdsHome(real, stat)) {
        const via = real !== input ? ` (${real})` : '';
        throw new ToolError(
          `Refused "${input}"${via}: it holds Errand's own state folder, so it cannot be moved or deleted. Move or delete the files and folders inside it instead.`,
        );
      }
      if (stat.isFile() && stat.nlink > 1) {
        throw new ToolError(
          `Refused "${input}": the file has ${stat.nlink} hard links, and another link may be outside the allowed folders, so Errand will not ${access === 'read' ? 'read' : 'change'} it.`,
        );
      }
    }
    return { real, root, rel: path.relative(root, real), exists, missing: rest, stat };
  }

  /** Resolve again and insist the answer did not change (the check at the moment of the operation). */
  async recheck(
    input: string,
    prepared: ResolvedPath,
    access: Access,
    opts: Pick<ResolveOptions, 'takesAway'> = {},
  ): Promise<ResolvedPath> {
    const now = await this.resolve(input, access, opts);
    if (now.real !== prepared.real) {
      throw new ToolError(
        `"${input}" now leads somewhere else (${now.real}) than when the call was checked; nothing was done.`,
      );
    }
    return now;
  }
}
