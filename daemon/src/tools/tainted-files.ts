// Files a task changed while untrusted text was in its view (a web page, connector output, a
// received file): what it wrote may carry that text's instructions. A task that later reads one of
// them is tainted in turn, so taint follows content through files, across threads and restarts.
// Kept as one mark per line (JSON), appended as files are written. A mark is a file, or a folder
// (its path ending in the separator) that covers everything under it. The ledger never forgets a
// mark: past its bound, marks give way to their folders' marks (more counts as tainted, never less).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { writeFileDurablySync } from '../util/durable-file.js';

/** Marks kept at most; past it they collapse into folder marks, down to KEEP_MARKS (so a rewrite is rare). */
const MAX_MARKS = 10_000;
const KEEP_MARKS = 7_500;
/** Past the bound, marks deeper than this many names first count as their folder at this depth. */
const MAX_COLLAPSE_DEPTH = 32;
/** A move carries up to this many marks one by one; past it, the new folder is marked whole. */
const CARRY_EACH_UP_TO = 32;
/** Entries of a folder looked at for files a command changed; past it, the folder is marked whole. */
const MAX_SCAN_ENTRIES = 50_000;
/**
 * How long before a command started a file's ctime may lie and still count as written by it: the
 * kernel stamps ctime from a clock up to a tick behind, and a file system that keeps whole seconds
 * (FAT: two) rounds it down.
 */
const ctimeSlackNs = (ctimeNs: bigint) => (ctimeNs % 1_000_000_000n === 0n ? 2_000_000_000n : 100_000_000n);

/** How many names deep a path is (the root is 0). */
function depthOf(p: string): number {
  let n = 0;
  for (let i = p.indexOf(path.sep, 1); i !== -1; i = p.indexOf(path.sep, i + 1)) n++;
  return p.length === rootLength(p) ? 0 : n + 1;
}

function rootLength(p: string): number {
  return p.startsWith(path.sep) ? 1 : path.parse(p).root.length;
}

/** A mark cut to at most `depth` names: itself when not deeper, else its folder's mark at that depth. */
function cutAt(mark: string, depth: number): string {
  const p = markedPath(mark);
  let end = rootLength(p) - 1;
  for (let d = 0; d < depth; d++) {
    end = p.indexOf(path.sep, end + 1);
    if (end === -1) return mark;
  }
  return end + 1 >= p.length ? mark : p.slice(0, end + 1);
}

/** The mark for a folder and everything under it. */
function folderMark(dir: string): string {
  return dir.endsWith(path.sep) ? dir : dir + path.sep;
}

/** The path a mark names (a folder mark without its trailing separator; the root stays the root). */
function markedPath(mark: string): string {
  return mark.length > 1 && mark.endsWith(path.sep) ? mark.slice(0, -1) : mark;
}

/** How many leading names two paths share. */
function sharedNames(a: string, b: string): number {
  const x = a.split(path.sep).filter(Boolean);
  const y = b.split(path.sep).filter(Boolean);
  let n = 0;
  while (n < x.length && n < y.length && x[n] === y[n]) n++;
  return n;
}

/** A path's real form: its nearest existing ancestor's realpath plus the rest (a link leads elsewhere). */
function realForm(p: string): string {
  const rest: string[] = [];
  for (let dir = p; ; ) {
    try {
      return path.join(fs.realpathSync.native(dir), ...rest);
    } catch {
      const up = path.dirname(dir);
      if (up === dir) return p;
      rest.unshift(path.basename(dir));
      dir = up;
    }
  }
}

/** Programs that read only the files their arguments name (no folder walk, no script). */
const NAMED_FILE_READERS = new Set([
  'cat',
  'head',
  'tail',
  'less',
  'more',
  'wc',
  'sort',
  'uniq',
  'cut',
  'nl',
  'od',
  'xxd',
  'hexdump',
  'md5sum',
  'sha1sum',
  'sha256sum',
  'file',
  'stat',
  'diff',
  'cmp',
  'jq',
  'echo',
  'printf',
  'pwd',
  'date',
  'true',
  'false',
  'mkdir',
  'touch',
  'rm',
]);

/**
 * What a shell command may read, from its words: every path-like word of its arguments (also
 * inside a `-c` script), resolved from its folder, and the folder itself unless the program only
 * reads the files it names (a search, a script, an unknown program may read anything there). Each
 * word counts both as written and as its real path: marks are real paths, and a word may pass
 * through a symbolic link (`cat link/plan.md`).
 */
export function shellReadTargets(argv: string[], cwd: string): string[] {
  const targets = new Set<string>();
  for (const arg of argv.slice(1))
    for (const word of arg.split(/[\s;|&()<>'"`=,]+/)) {
      if (!word || word.startsWith('-') || word.length > 4096 || word.includes('\0')) continue;
      const p = path.resolve(cwd, word.replace(/^~(?=\/|$)/, process.env.HOME ?? '~'));
      const lexical = p.length > 1 && p.endsWith(path.sep) ? p.slice(0, -1) : p;
      targets.add(lexical);
      targets.add(realForm(lexical));
    }
  if (!NAMED_FILE_READERS.has(path.basename(argv[0] ?? ''))) targets.add(cwd);
  return [...targets];
}

/** What a shell step did, for noting what it wrote (see TaintedFiles.noteShellStep). */
export interface ShellStep {
  argv: string[];
  cwd: string;
  /** The task had untrusted text in view before the step. */
  taskTainted: boolean;
  /** The step read a noted file (by its arguments or its folder). */
  readNoted: boolean;
  /** The step's recorded changes (in its folder). */
  made: Array<{ op: string; path: string; toPath?: string }>;
  /** When the step started (ms): an argument path changed since then was written by it. */
  startedAt: number;
  /** Its folder could not be compared in full (too large, files left out): `made` may miss files. */
  uncompared?: boolean;
}

/**
 * Regular files under `dir` whose ctime is at or after `since` (the kernel sets ctime on every
 * write, rename or chmod; no program sets it back), without following links; undefined past
 * MAX_SCAN_ENTRIES entries or at a folder it cannot read (a chmod 000 must not hide what is in it).
 */
async function changedSince(dir: string, since: number): Promise<string[] | undefined> {
  const sinceNs = BigInt(Math.floor(since)) * 1_000_000n;
  const found: string[] = [];
  const stack = [dir];
  let entries = 0;
  while (stack.length) {
    const at = stack.pop()!;
    let names: string[];
    try {
      names = await fsp.readdir(at);
    } catch (err) {
      // Gone meanwhile: nothing there to note.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      return undefined;
    }
    entries += names.length;
    if (entries > MAX_SCAN_ENTRIES) return undefined;
    const stats = await Promise.all(
      names.map((n) => fsp.lstat(path.join(at, n), { bigint: true }).catch(() => undefined)),
    );
    names.forEach((n, i) => {
      const st = stats[i];
      if (st?.isDirectory()) stack.push(path.join(at, n));
      else if (st?.isFile() && st.ctimeNs + ctimeSlackNs(st.ctimeNs) >= sinceNs) found.push(path.join(at, n));
    });
  }
  return found;
}

export class TaintedFiles {
  /** Files, and folders (ending in the separator) with everything under them. */
  private readonly marks = new Set<string>();

  /** Marks past which the next collapse runs (raised when the roots keep it from reaching KEEP_MARKS). */
  private limit = MAX_MARKS;

  /** `roots`: the allowed folders, which a collapse never marks whole (nor anything above them). */
  constructor(
    private readonly file: string,
    private readonly opts: { roots?: () => string[] } = {},
  ) {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      /* none yet */
    }
    for (const line of text.split('\n')) {
      try {
        const p = JSON.parse(line) as unknown;
        if (typeof p === 'string' && path.isAbsolute(p)) this.marks.add(p);
      } catch {
        /* a line cut by a crash */
      }
    }
    // A file a rewrite did not shorten (it failed): collapsed here, rewritten at the next collapse.
    this.collapse();
  }

  /** Does a read of `subjects` see a noted file (`within`: also files inside them, for a search)? */
  readBy(subjects: string[], within: boolean): boolean {
    if (!this.marks.size) return false;
    if (subjects.some((s) => this.marks.has(s) || this.covered(s))) return true;
    return within && subjects.some((s) => this.holdsUnder(s));
  }

  /** Notes files a tainted task is about to write, durably (before the write; throws when it cannot). */
  add(files: string[]): void {
    const fresh = [...new Set(files)].filter((f) => path.isAbsolute(f) && !this.marks.has(f) && !this.covered(f));
    if (!fresh.length) return;
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    // Durable before the write it marks (a crash as the file lands must not leave it unmarked).
    const fd = fs.openSync(this.file, 'a', 0o600);
    try {
      fs.writeSync(fd, fresh.map((p) => `${JSON.stringify(p)}\n`).join(''));
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    // Known only once on disk: a failed append leaves them unknown, so a retry appends them again.
    for (const f of fresh) this.marks.add(f);
    if (this.marks.size <= this.limit || !this.collapse()) return;
    try {
      writeFileDurablySync(this.file, [...this.marks].map((p) => `${JSON.stringify(p)}\n`).join(''));
    } catch {
      // The appended file still holds every mark (finer ones): a later start collapses it again.
    }
  }

  /**
   * `from` (a file or a folder) is about to be moved to `to`: what was noted there is noted under
   * `to` too, durably, before the move. A few marks under a folder move one by one (a clean rename
   * of a project holding one noted file must not taint the user's own files in it); more of them,
   * or a folder noted whole, note the new folder once (a mark per file would let a task flood the
   * ledger by moving a folder back and forth). The old names stay noted (harmless once gone).
   */
  carry(from: string, to: string): void {
    const inside = folderMark(from);
    const under = this.marks.has(from) ? [to] : [];
    for (const m of this.marks) if (m.startsWith(inside)) under.push(folderMark(to) + m.slice(inside.length));
    this.add(this.covered(from) || under.length > CARRY_EACH_UP_TO ? [folderMark(to)] : under);
  }

  /**
   * Note what a shell step wrote when it may carry untrusted text: the task had some in view, or the
   * step read a noted file (`cp noted copy`, `cat noted > out`) or removed one (`mv` shows as a
   * removal and a new file). Besides its recorded changes (its folder only), an argument path
   * changed during the step is noted too (`mv noted ../elsewhere/name`). When its folder could not
   * be compared, what changed there is found by change time; a folder too large for that is noted
   * whole (a clean task reading from it is then tainted: never less, when unsure).
   */
  async noteShellStep(step: ShellStep): Promise<void> {
    const removedNoted = step.made.some((c) => c.op === 'trash' && this.readBy([c.path], true));
    if (!step.taskTainted && !step.readNoted && !removedNoted) return;
    const written = step.made
      .filter((c) => c.op !== 'trash' && c.op !== 'mkdir')
      .flatMap((c) => (c.toPath ? [c.path, c.toPath] : [c.path]));
    for (const p of shellReadTargets(step.argv, step.cwd)) {
      if (p === step.cwd) continue;
      try {
        const st = fs.lstatSync(p);
        // A rename changes the ctime, a copy makes a new file: either is at or after the start.
        if (st.isFile() && st.ctimeMs >= step.startedAt - 1) written.push(p);
      } catch {
        /* not there (a word, or a file it removed) */
      }
    }
    if (step.uncompared) {
      const changed = await changedSince(step.cwd, step.startedAt);
      written.push(...(changed ?? [folderMark(step.cwd)]));
    }
    this.add(written);
  }

  /** Is anything under the folder `dir` marked? */
  private holdsUnder(dir: string): boolean {
    const inside = folderMark(dir);
    for (const m of this.marks) if (m.startsWith(inside)) return true;
    return false;
  }

  /** Is `p` (a file or a folder) under a folder mark, or one itself? */
  private covered(p: string): boolean {
    for (let dir = markedPath(p); ; ) {
      if (this.marks.has(folderMark(dir))) return true;
      const up = path.dirname(dir);
      if (up === dir) return false;
      dir = up;
    }
  }

  /**
   * Past the bound, marks give way to their folders' marks: the deepest first (a file a level below
   * the rest of the flood keeps its own mark), and at the level that must give way, the fullest
   * folders first (the fewest files newly counted as tainted per mark saved). Whatever was noted
   * stays noted, now or under a folder. Returns whether it collapsed anything.
   */
  private collapse(): boolean {
    if (this.marks.size <= MAX_MARKS) return false;
    // A folder mark never covers an allowed folder or anything above it (nor the whole disk): the
    // user's own files there (their CLAUDE.md) would taint every later task. A mark is never cut
    // above the first name it does not share with any root; past that the ledger keeps more marks.
    const roots = (this.opts.roots?.() ?? []).map((r) => markedPath(path.resolve(r)));
    const floors = new Map<string, number>();
    const cut = (m: string, depth: number) => {
      let floor = floors.get(m);
      if (floor === undefined) {
        floor = 1;
        for (const r of roots) floor = Math.max(floor, sharedNames(markedPath(m), r) + 1);
        floors.set(m, floor);
      }
      return cutAt(m, Math.max(depth, floor));
    };
    // What lies deeper than MAX_COLLAPSE_DEPTH gives way first, at once: the work stays small for any path.
    const marks = [...new Set([...this.marks].map((m) => cut(m, MAX_COLLAPSE_DEPTH)))];
    const distinctAt = (depth: number) => new Set(marks.map((m) => cut(m, depth))).size;
    // The deepest level whose cut keeps few enough (cutting at 0 leaves the root alone); the
    // number of distinct cuts only grows with the depth, so a binary search finds it.
    let fits = 0;
    let over = 0;
    for (const m of marks) over = Math.max(over, depthOf(markedPath(m)));
    if (marks.length <= KEEP_MARKS) fits = over;
    while (over - fits > 1) {
      const mid = (fits + over) >> 1;
      if (distinctAt(mid) <= KEEP_MARKS) fits = mid;
      else over = mid;
    }
    // Cut at `over`, then the fullest of its folders at `fits` give way until few enough.
    // Each cut at `over` keeps the one mark it stands for (undefined: it stands for several).
    const byFolder = new Map<string, Map<string, string | undefined>>();
    for (const m of marks) {
      const coarse = cut(m, fits);
      const members = byFolder.get(coarse) ?? new Map<string, string | undefined>();
      const member = cut(m, over);
      members.set(member, members.has(member) ? undefined : m);
      byFolder.set(coarse, members);
    }
    let count = 0;
    for (const members of byFolder.values()) count += members.size;
    const old = this.marks.size;
    this.marks.clear();
    for (const [coarse, members] of [...byFolder].sort((a, b) => b[1].size - a[1].size)) {
      if (count > KEEP_MARKS && members.size > 1) {
        count -= members.size - 1;
        this.marks.add(coarse);
      } else for (const [member, only] of members) this.marks.add(only ?? member);
    }
    // A mark inside a folder mark adds nothing.
    for (const m of this.marks) {
      const p = markedPath(m);
      if (path.dirname(p) !== p && this.covered(path.dirname(p))) this.marks.delete(m);
    }
    // Kept over the bound (the roots allow no coarser marks): collapse again only after as many new ones.
    this.limit = Math.max(MAX_MARKS, this.marks.size + MAX_MARKS - KEEP_MARKS);
    return this.marks.size < old;
  }
}
