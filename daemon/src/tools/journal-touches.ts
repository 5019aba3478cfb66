// Telling the shell runs in flight what the file tools change, so a command's before/after comparison
// never takes a tool's change (another task's, or its own task's) for its own: the runs folder
// (journal/.shell-runs) where runs keep their snapshots, and the durable touch log a recovery after a
// crash reads. Apart from the change journal, which only says what it is about to change.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { type ToolNote, ToolPaths, type ToolWatch } from './shell-journal.js';
import { KeptStore } from './shell-kept.js';

/** Shell runs in flight keep their snapshot here (see shell-journal.ts), with the tools' touch log. */
const RUNS = '.shell-runs';
const TOUCH_LOG = 'touched.log';
const RUN_NAME = /^run_[0-9a-f]{16}\.run$/;

/** A path and every folder above it: what writing it may create. */
export function withParents(p: string): string[] {
  const out = [p];
  for (let d = path.dirname(p); d !== path.dirname(d); d = path.dirname(d)) out.push(d);
  return out;
}

export class ToolTouches {
  /** What the tools are changing right now (a shell watch that begins meanwhile gets them too). */
  private readonly active = new Map<number, ToolNote>();
  private noteKey = 0;
  /** Shell runs in flight, told about every change the tools make. */
  private readonly watchers = new Set<ToolPaths>();
  private logWrites = 0;
  /** A run a crash cut off could not be recovered: its touch log is kept for the next start. */
  private keepLog = false;
  /** Where shell runs keep their snapshots while they run. */
  readonly runsDir: string;
  /** The contents shell runs keep, shared by the runs (shell-kept.ts). */
  readonly kept: KeptStore;
  private readonly touchLog: string;

  constructor(journalDir: string) {
    this.runsDir = path.join(journalDir, RUNS);
    this.kept = new KeptStore(this.runsDir);
    this.touchLog = path.join(this.runsDir, TOUCH_LOG);
  }

  /** What is in the runs folder now: the runs a crash cut off, when listed before any new run starts. */
  leftByACrash(): string[] {
    try {
      return fs.readdirSync(this.runsDir);
    } catch {
      return []; // none
    }
  }

  /** Recover the runs a crash cut off: `recoverRun` records one run's changes from its file and the touch log. */
  async recover(names: string[], recoverRun: (file: string, touchLog: Buffer) => Promise<void>): Promise<void> {
    const log = await fsp.readFile(this.touchLog).catch(() => Buffer.alloc(0));
    for (const name of names) {
      if (!RUN_NAME.test(name)) continue;
      try {
        await recoverRun(path.join(this.runsDir, name), log);
      } catch {
        this.keepLog = true; // left for the next start, with the log it needs
      }
    }
    if (this.keepLog) return;
    await fsp.rm(this.touchLog, { force: true }).catch(() => undefined);
    await this.kept.clear().catch(() => undefined); // no run refers to it now
  }

  /** The file a shell run keeps its snapshot in while it runs. */
  runFile(runId: string): string {
    if (!RUN_NAME.test(`${runId}.run`)) throw new Error('bad run id');
    return path.join(this.runsDir, `${runId}.run`);
  }

  /**
   * Begin telling a shell run what the tools change (it must not take those changes for its own):
   * what they are changing now, and everything they change until close. While a watch is open each
   * change is also appended durably to the touch log before it is made, for a recovery after a crash.
   */
  watch(): ToolWatch {
    const paths = new ToolPaths();
    for (const n of this.active.values()) paths.add(n);
    this.watchers.add(paths);
    fs.mkdirSync(this.runsDir, { recursive: true, mode: 0o700 });
    let offset = 0;
    try {
      offset = fs.statSync(this.touchLog).size;
    } catch {
      /* no log yet */
    }
    return {
      paths,
      offset,
      close: () => {
        if (!this.watchers.delete(paths) || this.watchers.size || this.logWrites || this.keepLog) return;
        try {
          fs.rmSync(this.touchLog, { force: true });
        } catch {
          /* removed at the next start */
        }
      },
    };
  }

  /** Tell the shell runs in flight (but `except`) that `note`'s paths change (durably, before the change). */
  async tell(note: ToolNote, except?: ToolPaths): Promise<void> {
    const told = [...this.watchers].filter((w) => w !== except);
    if (!told.length) return;
    for (const w of told) w.add(note);
    this.logWrites++;
    try {
      const h = await fsp.open(this.touchLog, 'a', 0o600);
      try {
        await h.write(`${JSON.stringify(note)}\n`);
        await h.datasync();
      } finally {
        await h.close();
      }
    } catch {
      /* only a recovery after a crash would miss it */
    } finally {
      this.logWrites--;
    }
  }

  /** Run `fn`, a change of the tools to `note`'s paths, with the shell runs in flight told first. */
  async noting<T>(note: ToolNote, fn: () => Promise<T>): Promise<T> {
    const key = ++this.noteKey;
    this.active.set(key, note);
    try {
      await this.tell(note);
      return await fn();
    } finally {
      this.active.delete(key);
    }
  }
}
