// Files a task changed while untrusted text was in its view (a web page, connector output, a
// received file): what it wrote may carry that text's instructions. A task that later reads one of
// them is tainted in turn, so taint follows content through files, across threads and restarts.
// Kept as one path per line (JSON), appended as files are written; bounded to the newest paths.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileDurablySync } from '../util/durable-file.js';

const MAX_PATHS = 10_000;

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
 * reads the files it names (a search, a script, an unknown program may read anything there).
 */
export function shellReadTargets(argv: string[], cwd: string): string[] {
  const targets = new Set<string>();
  for (const arg of argv.slice(1))
    for (const word of arg.split(/[\s;|&()<>'"`=,]+/)) {
      if (!word || word.startsWith('-') || word.length > 4096 || word.includes('\0')) continue;
      const p = path.resolve(cwd, word.replace(/^~(?=\/|$)/, process.env.HOME ?? '~'));
      targets.add(p.length > 1 && p.endsWith(path.sep) ? p.slice(0, -1) : p);
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
}

export class TaintedFiles {
  private readonly paths = new Set<string>();

  constructor(private readonly file: string) {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      /* none yet */
    }
    for (const line of text.split('\n')) {
      try {
        const p = JSON.parse(line) as unknown;
        if (typeof p === 'string' && path.isAbsolute(p)) this.remember(p);
      } catch {
        /* a line cut by a crash */
      }
    }
  }

  /** Does a read of `subjects` see a noted file (`within`: also files inside them, for a search)? */
  readBy(subjects: string[], within: boolean): boolean {
    if (subjects.some((s) => this.paths.has(s))) return true;
    if (!within || !this.paths.size) return false;
    const folders = subjects.map((s) => s + path.sep);
    for (const p of this.paths) if (folders.some((f) => p.startsWith(f))) return true;
    return false;
  }

  /** Notes files a tainted task is about to write, durably (before the write; throws when it cannot). */
  add(files: string[]): void {
    const fresh = files.filter((f) => path.isAbsolute(f) && !this.paths.has(f));
    if (!fresh.length) return;
    for (const f of fresh) this.remember(f);
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    if (this.paths.size >= MAX_PATHS) {
      // Past the bound the oldest go: rewrite with what is kept.
      writeFileDurablySync(this.file, [...this.paths].map((p) => `${JSON.stringify(p)}\n`).join(''));
    } else {
      // Durable before the write it marks (a crash as the file lands must not leave it unmarked).
      const fd = fs.openSync(this.file, 'a', 0o600);
      try {
        fs.writeSync(fd, fresh.map((p) => `${JSON.stringify(p)}\n`).join(''));
        fs.fdatasyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
  }

  /**
   * `from` (a file or a folder) is about to be moved to `to`: every noted name at or under it is
   * noted under `to` too, durably, before the move. The old names stay noted (harmless once gone).
   */
  carry(from: string, to: string): void {
    const inside = from + path.sep;
    const moved: string[] = [];
    for (const p of this.paths) {
      if (p === from) moved.push(to);
      else if (p.startsWith(inside)) moved.push(to + p.slice(from.length));
    }
    if (moved.length) this.add(moved);
  }

  /**
   * Note what a shell step wrote when it may carry untrusted text: the task had some in view, or the
   * step read a noted file (`cp noted copy`, `cat noted > out`) or removed one (`mv` shows as a
   * removal and a new file). Besides its recorded changes (its folder only), an argument path
   * changed during the step is noted too (`mv noted ../elsewhere/name`).
   */
  noteShellStep(step: ShellStep): void {
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
    this.add(written);
  }

  private remember(file: string): void {
    this.paths.delete(file);
    this.paths.add(file);
    if (this.paths.size > MAX_PATHS) this.paths.delete(this.paths.values().next().value!);
  }
}
