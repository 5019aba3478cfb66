// The change journal: every change a task makes to a file goes through here, which keeps the
// previous content first (content-addressed blobs under journal/<taskId>/blobs) and records the
// change as an intent, durably, before it is made: a kill -9 at any point leaves either no change
// or a change its entry names. An intent counts once it is marked made (or, after a crash, once
// what is on disk shows it was); one not made after all is dropped. Undo walks a task's changes
// backwards and restores each path to its state before the task, leaving alone (and reporting) any
// path that changed since. Delete means "move to trash".
//
// Shell commands running meanwhile are told which paths the tools are changing (watch), so a
// command's before/after comparison never takes another task's change for its own.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { pipeline, Readable, Transform } from 'node:stream';
import type { ChangeEntry, ServerEvent } from '../../../shared/src/index.js';
import { MAX_EVENT_BYTES } from '../store/journal.js';
import { FolderIndex } from '../util/folder-index.js';
import { moveAcross, removeNoFollow } from './move-across.js';
import { inFolder, openNoFollow, writeAtomicIn } from './no-follow.js';
import { type PlaceCheck, placeContained } from './safe-place.js';
import { type ExternalChanges, recoverRun, type ToolNote, ToolPaths, type ToolWatch } from './shell-journal.js';
import { KeptStore } from './shell-kept.js';

export type { ExternalChanges, ToolWatch };

import { sha256, ToolError } from './util.js';

export interface JournalEntry extends ChangeEntry {
  kind: 'file' | 'dir';
  /** Blob name (sha256) of the content before the change, for write/edit. */
  beforeBlob?: string;
  beforeMode?: number;
  /** sha256 of the file content right after the change (files only). */
  afterSha?: string;
  /** Where a trashed path went. */
  trashPath?: string;
}

/** Changes made outside the file tools (by a shell command), found by comparing snapshots. */
type JournalLine =
  /** A change; with `intent`, written before it was made: it counts once settled (below). */
  | { entry: JournalEntry; intent?: true }
  /** Intents settled: made (`landed`) or not made after all (`missed`). The first word on an id holds. */
  | { landed: string[] }
  | { missed: string[] }
  /** What a shell run changed, in one line (a torn line holds none of it, so recovery redoes it whole). */
  | { external: JournalEntry[]; run?: string }
  /** `by`: the undo whose marks these are, until its result is reported (untagged: reported). */
  | { undone: string[]; at: number; by?: string }
  /** Written (durably) before an undo acts: a crash may leave these reversed but not marked undone. */
  | { undoing: string[]; at: number; by?: string }
  /** Undos whose results reached their caller (the command's record that holds the reply is durable). */
  | { reported: string[]; at: number };

/** Shell runs in flight keep their snapshot here (see shell-journal.ts), with the tools' touch log. */
const RUNS = '.shell-runs';
const TOUCH_LOG = 'touched.log';
const RUN_NAME = /^run_[0-9a-f]{16}\.run$/;

/**
 * Test-only: ERRAND_TEST_CRASH=after-file-change:<file name> kills the process right after a file
 * tool changed (wrote, moved, trashed) that file, before the change is marked made.
 */
const CRASH_AFTER_CHANGE = (() => {
  const v = process.env.ERRAND_TEST_CRASH;
  const point = 'after-file-change:';
  return v?.startsWith(point) ? v.slice(point.length) : undefined;
})();
function crashPoint(e: JournalEntry): void {
  if (CRASH_AFTER_CHANGE !== undefined && path.basename(e.toPath ?? e.path) === CRASH_AFTER_CHANGE)
    process.kill(process.pid, 'SIGKILL');
}
/** Test-only: ERRAND_TEST_CRASH=after-undo-of:<file name> kills the process right after an undo reversed a change to that file. */
const CRASH_AFTER_UNDO = (() => {
  const v = process.env.ERRAND_TEST_CRASH;
  const point = 'after-undo-of:';
  return v?.startsWith(point) ? v.slice(point.length) : undefined;
})();
function undoCrashPoint(e: JournalEntry): void {
  if (CRASH_AFTER_UNDO !== undefined && path.basename(e.path) === CRASH_AFTER_UNDO)
    process.kill(process.pid, 'SIGKILL');
}

/** A path and every folder above it: what writing it may create. */
function withParents(p: string): string[] {
  const out = [p];
  for (let d = path.dirname(p); d !== path.dirname(d); d = path.dirname(d)) out.push(d);
  return out;
}

/** A change's act refused before it changed anything: its intent is settled as not made. */
class NothingDone extends ToolError {}

/** What a restore would put back at a path, for a guard to weigh before it lands. */
export interface Restore {
  target: string;
  /** Where it comes from when that is a place of the user's too (a move undone); unset for a kept copy. */
  from?: string;
  /** The regular files that would land at or under `target`, with their sizes. */
  files(): Promise<Array<{ real: string; bytes: number }>>;
}

/**
 * Around every restore that adds content back (undo of an edit, a move, a delete): returns why the
 * path is left as it is, or runs `restore` and returns undefined. It may hold a lock meanwhile; it is
 * called inside the task's turn, so it must never wait for a turn itself.
 */
export type RestoreGuard = (r: Restore, restore: () => Promise<void>) => Promise<string | undefined>;

/**
 * Called before a restore moves content from where it is (`from`) back to `to` (an undone move, a
 * trash item put back), once every check passed: what follows content by its path (taint marks)
 * is carried to `to` durably, before it lands there. Throwing leaves the content where it is.
 */
export type BeforeRestoreMove = (from: string, to: string) => void | Promise<void>;

export interface JournalOptions {
  guardRestore?: RestoreGuard;
  beforeRestoreMove?: BeforeRestoreMove;
  /** A path (or a message naming paths) as clients see it: e.g. the memory folder as /memories. */
  shown?: (text: string) => string;
}

/** The regular files under `item` (links neither followed nor counted), named as if at `target`. */
async function filesIn(item: string, target: string): Promise<Array<{ real: string; bytes: number }>> {
  const st = await exists(item);
  if (st?.isFile()) return [{ real: target, bytes: st.size }];
  if (!st?.isDirectory()) return [];
  const out: Array<{ real: string; bytes: number }> = [];
  for (const name of await fsp.readdir(item))
    out.push(...(await filesIn(path.join(item, name), path.join(target, name))));
  return out;
}

export interface UndoResult {
  restored: string[];
  /** Paths left alone, with the reason (changed since the task, or an error). */
  skipped: Array<{ path: string; reason: string }>;
}

/**
 * Why a path could not be restored, as a client may read it: the file tools reach a folder through
 * its opened descriptor (/proc/self/fd/N/name), a name that means nothing outside this process and
 * is gone by now. Each such name becomes the real path it stood for (`paths`: the change's paths).
 */
function restoreFailure(err: unknown, paths: string[]): string {
  const message = err instanceof Error ? err.message : String(err);
  const real = message.replace(/\/proc\/self\/fd\/\d+(?:\/([^'"\s]+))?/g, (_whole, name?: string) => {
    const known = name && paths.find((p) => path.basename(p) === name);
    if (known) return known;
    const folder = path.dirname(paths[0]);
    return name ? path.join(folder, name) : folder;
  });
  return `could not be restored: ${real.replace(/\.$/, '')}; fix that and undo again`;
}

/**
 * The most a changes.updated event's list may weigh (serialized): a quarter of an event. The list is
 * sent again after every step that changes files, and every device replays the event log.
 */
export const MAX_CHANGES_EVENT_BYTES = MAX_EVENT_BYTES / 4;

/**
 * The changes.updated event for a task's change list: the whole list while it is short; past that,
 * only its length, and the client fetches the list with task.changes.
 */
export function changesUpdated(
  taskId: string,
  changes: ChangeEntry[],
): Extract<ServerEvent, { kind: 'changes.updated' }> {
  let bytes = 2; // the brackets
  for (const c of changes) {
    bytes += Buffer.byteLength(JSON.stringify(c)) + 1;
    if (bytes > MAX_CHANGES_EVENT_BYTES)
      return { kind: 'changes.updated', taskId, changes: [], count: changes.length, omitted: true };
  }
  return { kind: 'changes.updated', taskId, changes, count: changes.length };
}

/** An id the journal can keep a task's folder under: one plain path segment. */
export const isTaskId = (taskId: string): boolean =>
  /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(taskId) && !taskId.includes('..');

const newId = () => `chg_${crypto.randomBytes(8).toString('base64url')}`;

/** How much of a file is read at a time to hash it: its whole size is never held. */
const HASH_CHUNK = 1024 * 1024;

/** Read a regular, singly linked file from an open handle (closing it); `file` names it in errors. */
async function readHandle(h: FileHandle, file: string): Promise<{ data: Buffer; stat: fs.Stats }> {
  try {
    const stat = await h.stat();
    if (!stat.isFile()) throw new ToolError(`${file} is not a regular file.`);
    if (stat.nlink > 1) throw new ToolError(`${file} has other hard links; Errand will not use it.`);
    return { data: await h.readFile(), stat };
  } finally {
    await h.close();
  }
}

/** Read a regular file (a real path) without following a link anywhere on its path. */
export async function readNoFollow(file: string): Promise<{ data: Buffer; stat: fs.Stats }> {
  return readHandle(await openNoFollow(file), file);
}

/**
 * Stream a regular, singly linked file (a real path), opened without following a link anywhere on
 * its path, never held whole: exactly the size it had when opened (an answer's Content-Length), or
 * an error if it shrank meanwhile. Destroying the stream closes the file.
 */
export async function streamNoFollow(
  file: string,
  /** Looks at the opened file first (its own reads, by position); throwing refuses it. */
  check?: (handle: FileHandle, size: number) => Promise<void>,
): Promise<{ stream: Readable; stat: fs.Stats }> {
  const handle = await openNoFollow(file);
  let stat: fs.Stats;
  try {
    stat = await handle.stat();
    if (!stat.isFile()) throw new ToolError(`${file} is not a regular file.`);
    if (stat.nlink > 1) throw new ToolError(`${file} has other hard links; Errand will not use it.`);
    await check?.(handle, stat.size);
  } catch (err) {
    await handle.close();
    throw err;
  }
  const size = stat.size;
  if (size === 0) {
    await handle.close();
    return { stream: Readable.from([]), stat };
  }
  let seen = 0;
  const exact = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      done(seen < size ? new Error(`${file} shrank while it was read.`) : null);
    },
  });
  // Errors and destruction travel both ways: the file is closed whichever side ends first.
  const stream = pipeline(handle.createReadStream({ start: 0, end: size - 1 }), exact, () => undefined);
  return { stream, stat };
}

/** Read `here`, a name in a folder already reached without following links (inParent). */
async function readAt(here: string, file: string): Promise<{ data: Buffer; stat: fs.Stats }> {
  const flags = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;
  return readHandle(await fsp.open(here, flags), file);
}

/** Write a file durably: temp file beside it, fsync, rename over, fsync the folder. */
export async function writeAtomic(file: string, data: Buffer, mode?: number): Promise<void> {
  await writeAtomicIn(path.dirname(file), path.basename(file), data, mode);
}

async function exists(p: string): Promise<fs.Stats | undefined> {
  return fsp.lstat(p).catch(() => undefined);
}

/**
 * A trash slot holds its note (errand-trash.json) and, in `item/`, what was deleted: apart, so a
 * deleted file that is itself named errand-trash.json can neither overwrite nor forge the note.
 * Slots written before this layout hold the item beside the note.
 */
const TRASH_NOTE = 'errand-trash.json';
const TRASH_ITEM = 'item';

async function slotItem(slot: string, originalPath: string): Promise<string> {
  const inItem = path.join(slot, TRASH_ITEM, path.basename(originalPath));
  if (await exists(inItem)) return inItem;
  return path.join(slot, path.basename(originalPath));
}

export class ChangeJournal {
  /** Tasks that have a change file (most tasks change nothing; every task's end asks). */
  private readonly withChanges: FolderIndex;
  /** Intents being made now, by this process: not changes yet, and not to be settled from disk. */
  private readonly making = new Set<string>();
  /** Tasks whose intents a crash left open were settled since this process started. */
  private readonly settledTasks = new Set<string>();
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
  private readonly recovering: Promise<void>;
  /** Per task, the end of its queue of undos and changes (see oneAtATime). */
  private readonly turns = new Map<string, Promise<void>>();
  /** Undos of this process whose results are reported or on their way: no other undo's to report. */
  private readonly ownUndos = new Set<string>();

  private readonly guardRestore: RestoreGuard;
  private readonly beforeRestoreMove: BeforeRestoreMove;
  private readonly shown: (text: string) => string;

  constructor(
    private readonly dir: string,
    private readonly trashDir: string,
    /** The roots check at the moment of a restore: undo writes only where tools may write now. */
    private readonly mayRestoreTo: PlaceCheck = async () => undefined,
    opts: JournalOptions = {},
  ) {
    this.guardRestore = opts.guardRestore ?? (async (_r, restore) => void (await restore()));
    this.beforeRestoreMove = opts.beforeRestoreMove ?? (() => undefined);
    this.shown = opts.shown ?? ((text) => text);
    this.withChanges = new FolderIndex(dir, (name) => (name.startsWith('.') ? undefined : name));
    this.runsDir = path.join(dir, RUNS);
    this.kept = new KeptStore(this.runsDir);
    this.touchLog = path.join(this.runsDir, TOUCH_LOG);
    // Shell runs a crash cut off: listed now, before any new one starts; recovered once the rest
    // of start-up (which kills the commands a previous daemon left running) has run.
    let left: string[] = [];
    try {
      left = fs.readdirSync(this.runsDir);
    } catch {
      /* none */
    }
    this.recovering = left.length
      ? new Promise<void>((r) => setImmediate(r)).then(() => this.recoverRuns(left))
      : Promise.resolve();
  }

  /** Resolves once the shell runs a crash cut off are recorded (changes and new runs wait for it). */
  ready(): Promise<void> {
    return this.recovering;
  }

  private async recoverRuns(names: string[]): Promise<void> {
    const log = await fsp.readFile(this.touchLog).catch(() => Buffer.alloc(0));
    for (const name of names) {
      if (!RUN_NAME.test(name)) continue;
      try {
        await recoverRun(this, path.join(this.runsDir, name), log);
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
  private async tell(note: ToolNote, except?: ToolPaths): Promise<void> {
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
  private async noting<T>(note: ToolNote, fn: () => Promise<T>): Promise<T> {
    await this.recovering;
    const key = ++this.noteKey;
    this.active.set(key, note);
    try {
      await this.tell(note);
      return await fn();
    } finally {
      this.active.delete(key);
    }
  }

  /**
   * Run `fn` once the task's earlier undo or change has finished: an undo from two devices at once
   * runs twice in turn (the second reads the first's undone marks and finds nothing left), and a
   * change of the task never lands in the middle of its undo, nor an undo between a change's checks
   * (what is there, the content before) and its act. Nothing inside a turn takes another turn of
   * the same task: it would wait for itself.
   */
  private async oneAtATime<T>(taskId: string, fn: () => Promise<T>): Promise<T> {
    const before = this.turns.get(taskId);
    let done!: () => void;
    const mine = new Promise<void>((r) => {
      done = r;
    });
    this.turns.set(taskId, mine);
    try {
      if (before) await before;
      return await fn();
    } finally {
      done();
      if (this.turns.get(taskId) === mine) this.turns.delete(taskId);
    }
  }

  /**
   * A file tool's or an undo's turn, once the shell runs a crash cut off are recorded: their
   * recording (recordExternal) takes turns too, and must not wait behind a turn that waits for it.
   */
  private async turn<T>(taskId: string, fn: () => Promise<T>): Promise<T> {
    await this.recovering;
    return this.oneAtATime(taskId, fn);
  }

  private taskDir(taskId: string): string {
    if (!isTaskId(taskId)) throw new ToolError(`invalid task id "${taskId.slice(0, 40)}"`);
    return path.join(this.dir, taskId);
  }

  /** Append a line; durable on return unless `sync` is false (then the next durable append takes it along). */
  private async append(taskId: string, line: JournalLine, sync = true): Promise<void> {
    const dir = this.taskDir(taskId);
    this.withChanges.add(taskId);
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    const h = await fsp.open(path.join(dir, 'changes.jsonl'), 'a', 0o600);
    try {
      await h.write(JSON.stringify(line) + '\n');
      if (sync) await h.datasync();
    } finally {
      await h.close();
    }
  }

  private async saveBlob(taskId: string, data: Buffer): Promise<string> {
    const name = sha256(data);
    const blobs = path.join(this.taskDir(taskId), 'blobs');
    await fsp.mkdir(blobs, { recursive: true, mode: 0o700 });
    const file = path.join(blobs, name);
    if (!(await exists(file))) await writeAtomic(file, data, 0o600);
    return name;
  }

  async readBlob(taskId: string, name: string): Promise<Buffer> {
    if (!/^[0-9a-f]{64}$/.test(name)) throw new Error('bad blob name');
    return fsp.readFile(path.join(this.taskDir(taskId), 'blobs', name));
  }

  /** The lines of a task's change file (a torn last line after a crash is left out). */
  private async lines(taskId: string): Promise<JournalLine[]> {
    const file = path.join(this.taskDir(taskId), 'changes.jsonl');
    // Most tasks change nothing: asked at the end of every task, a missing file is answered without
    // a failed open (each one builds an error with a stack, a cost per task under load).
    if (!this.withChanges.has(taskId) || !fs.existsSync(file)) return [];
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch {
      return [];
    }
    const out: JournalLine[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const l = JSON.parse(line) as JournalLine;
        if (l && typeof l === 'object') out.push(l);
      } catch {
        /* a torn last line after a crash */
      }
    }
    return out;
  }

  /** Whether a shell run's changes are recorded (a recovery after a crash must not record them twice). */
  async hasRun(taskId: string, runId: string): Promise<boolean> {
    return (await this.lines(taskId)).some((l) => 'external' in l && l.run === runId);
  }

  /**
   * Every change of a task, oldest first, with undone marks applied. An intent counts once marked
   * made; one a crash (or a failed mark) left open is settled here by what is on disk, once.
   */
  async entries(taskId: string): Promise<JournalEntry[]> {
    await this.recovering;
    const list: Array<{ entry: JournalEntry; intent: boolean }> = [];
    const settled = new Map<string, boolean>();
    const undone = new Set<string>();
    for (const l of await this.lines(taskId)) {
      if ('entry' in l) list.push({ entry: l.entry, intent: l.intent === true });
      else if ('external' in l) for (const entry of l.external) list.push({ entry, intent: false });
      else if ('landed' in l) for (const id of l.landed) settled.set(id, settled.get(id) ?? true);
      else if ('missed' in l) for (const id of l.missed) settled.set(id, settled.get(id) ?? false);
      else if ('undone' in l) for (const id of l.undone) undone.add(id);
    }
    const open = list.filter((x) => x.intent && !settled.has(x.entry.id) && !this.making.has(x.entry.id));
    if (open.length) {
      const landed: string[] = [];
      const missed: string[] = [];
      for (const { entry } of open) {
        const made = await this.wasMade(entry);
        settled.set(entry.id, made);
        (made ? landed : missed).push(entry.id);
      }
      try {
        if (landed.length) await this.append(taskId, { landed });
        if (missed.length) await this.append(taskId, { missed });
      } catch {
        /* settled again at the next read, from the same disk */
      }
    }
    if (list.length) this.settledTasks.add(taskId);
    const entries: JournalEntry[] = [];
    for (const { entry, intent } of list) {
      // Not made after all, or being made right now: not a change (yet).
      if (intent && settled.get(entry.id) !== true) continue;
      if (undone.has(entry.id)) entry.undone = true;
      entries.push(entry);
    }
    return entries;
  }

  /**
   * Whether an intent's change was made, judged by what is on disk: false only when the paths are
   * plainly as they were before it (then an empty trash slot it made is removed). When it cannot be
   * told (something else changed the path since) it counts as made: undo then finds the path
   * changed since the task and leaves it alone.
   */
  private async wasMade(e: JournalEntry): Promise<boolean> {
    let made: boolean | undefined;
    try {
      switch (e.op) {
        case 'create':
        case 'write':
        case 'edit': {
          if (!(await exists(e.path))) made = e.beforeBlob ? undefined : false;
          else {
            const sha = await this.fileSha(e.path);
            made = sha === e.afterSha ? true : e.beforeBlob && sha === e.beforeBlob ? false : undefined;
          }
          break;
        }
        case 'mkdir':
          made = !!(await exists(e.path))?.isDirectory();
          break;
        case 'move':
        case 'trash': {
          const from = await exists(e.path);
          const dest = e.op === 'move' ? e.toPath : e.trashPath;
          const to = dest ? await exists(dest) : undefined;
          made = !from && to ? true : from && !to ? false : undefined;
          break;
        }
      }
    } catch {
      made = undefined;
    }
    if (made === false) await this.dropEmptySlot(e);
    return made !== false;
  }

  /** The trash slot made for a trash that did not happen, if its item is not there: removed. */
  private async dropEmptySlot(e: JournalEntry): Promise<void> {
    if (e.op !== 'trash' || !e.trashPath || (await exists(e.trashPath))) return;
    const slot = await this.slotOf(e.trashPath).catch(() => undefined);
    if (slot) await removeNoFollow(slot).catch(() => undefined);
  }

  /**
   * Make a change the intent way: `entry` is appended durably first, then `act` makes the change,
   * then the entry is marked made (or, when `act` failed, by what is on disk). Called within the
   * task's turn, by the method that made the checks the change relies on.
   */
  private async change(taskId: string, entry: JournalEntry, act: () => Promise<void>): Promise<JournalEntry> {
    // Intents a crash left open are settled before a new change to the task can blur them.
    if (this.withChanges.has(taskId) && !this.settledTasks.has(taskId)) await this.entries(taskId);
    this.making.add(entry.id);
    let made: boolean | undefined; // undefined: the intent is not recorded, nothing was done
    try {
      await this.append(taskId, { entry, intent: true });
      made = false;
      try {
        await act();
        made = true;
      } catch (err) {
        // A failed mkdir made nothing (a folder there now is someone else's), nor did an act that
        // refused before it began; otherwise ask the disk.
        made = entry.op === 'mkdir' || err instanceof NothingDone ? false : await this.wasMade(entry);
        throw err;
      }
      crashPoint(entry);
      return entry;
    } finally {
      // Not synced: if a crash takes the mark, the next read finds on disk whether it was made.
      if (made !== undefined)
        await this.append(taskId, made ? { landed: [entry.id] } : { missed: [entry.id] }, false).catch(() => undefined);
      else await this.dropEmptySlot(entry); // the intent could not be recorded: nothing was done
      this.making.delete(entry.id);
    }
  }

  /** A task's changes as clients see them (paths named as `shown` names them). */
  async changes(taskId: string): Promise<ChangeEntry[]> {
    return (await this.entries(taskId)).map(({ id, taskId: t, op, path: p, toPath, at, undone }) => ({
      id,
      taskId: t,
      op,
      path: this.shown(p),
      ...(toPath ? { toPath: this.shown(toPath) } : {}),
      at,
      ...(undone ? { undone } : {}),
    }));
  }

  /** Paths a task created, changed, moved or trashed. */
  async touched(taskId: string): Promise<Set<string>> {
    const set = new Set<string>();
    for (const e of await this.entries(taskId)) {
      set.add(e.path);
      if (e.toPath) set.add(e.toPath);
    }
    return set;
  }

  /**
   * Journal a folder the task just created on the way to a path, so undo removes it. (Made before
   * it is recorded: a crash in between leaves an empty folder the task's undo does not remove.)
   */
  private async recordMkdir(taskId: string, dir: string): Promise<void> {
    await this.append(taskId, { entry: { id: newId(), taskId, op: 'mkdir', path: dir, at: Date.now(), kind: 'dir' } });
  }

  /**
   * Run fn in the folder holding `target`, reached without following links (missing folders are
   * created and journaled when `create`): a folder swapped for a link since the check fails the call.
   */
  private inParent<T>(
    taskId: string,
    target: string,
    create: boolean,
    fn: (folder: string, name: string) => Promise<T>,
  ): Promise<T> {
    const name = path.basename(target);
    return inFolder(path.dirname(target), create ? { create, onCreate: (d) => this.recordMkdir(taskId, d) } : {}, (f) =>
      fn(f, name),
    );
  }

  /**
   * Write (create or overwrite) a file, keeping its previous content. `within` wraps the write inside
   * the task's turn (the memory tool checks its bound there, under the memory lock: undo takes the
   * turn first and then that lock, so the write must take them in the same order).
   */
  async writeFile(
    taskId: string,
    file: string,
    data: Buffer,
    op: 'write' | 'edit' = 'write',
    within: (write: () => Promise<JournalEntry>) => Promise<JournalEntry> = (write) => write(),
  ): Promise<JournalEntry> {
    // The whole of it in the task's turn: an undo between the look at what is there and the write
    // would leave the entry naming a state (created, or the content before) that is no longer so.
    return this.turn(taskId, () => within(() => this.writeFileNow(taskId, file, data, op)));
  }

  private writeFileNow(taskId: string, file: string, data: Buffer, op: 'write' | 'edit'): Promise<JournalEntry> {
    return this.noting({ exact: withParents(file), trees: [] }, () =>
      this.inParent(taskId, file, true, async (folder, name) => {
        const here = `${folder}/${name}`;
        const st = await exists(here);
        let beforeBlob: string | undefined;
        let beforeMode: number | undefined;
        if (st) {
          if (!st.isFile()) throw new ToolError(`${file} exists and is not a regular file.`);
          const before = await readAt(here, file);
          beforeBlob = await this.saveBlob(taskId, before.data);
          beforeMode = before.stat.mode & 0o7777;
        }
        const entry: JournalEntry = {
          id: newId(),
          taskId,
          op: st ? op : 'create',
          path: file,
          at: Date.now(),
          kind: 'file',
          beforeBlob,
          beforeMode,
          afterSha: sha256(data),
        };
        return this.change(taskId, entry, () => writeAtomicIn(folder, name, data, beforeMode));
      }),
    );
  }

  mkdir(taskId: string, dir: string): Promise<number> {
    return this.turn(taskId, () => this.mkdirNow(taskId, dir));
  }

  private mkdirNow(taskId: string, dir: string): Promise<number> {
    return this.noting({ exact: withParents(dir), trees: [] }, () =>
      this.inParent(taskId, dir, true, async (folder, name) => {
        const st = await exists(`${folder}/${name}`);
        if (st) {
          if (st.isDirectory()) return 0;
          throw new ToolError(`${dir} exists and is not a folder.`);
        }
        const entry: JournalEntry = { id: newId(), taskId, op: 'mkdir', path: dir, at: Date.now(), kind: 'dir' };
        await this.change(taskId, entry, () => fsp.mkdir(`${folder}/${name}`));
        return 1;
      }),
    );
  }

  move(taskId: string, from: string, to: string): Promise<JournalEntry> {
    // In the task's turn: an undo restoring `to` after the check that it is free would be overwritten.
    return this.turn(taskId, () => this.moveNow(taskId, from, to));
  }

  private moveNow(taskId: string, from: string, to: string): Promise<JournalEntry> {
    return this.noting({ exact: withParents(to), trees: [from, to] }, () =>
      this.inParent(taskId, from, false, (fromFolder, fromName) =>
        this.inParent(taskId, to, true, async (toFolder, toName) => {
          const source = `${fromFolder}/${fromName}`;
          const st = await exists(source);
          if (!st) throw new ToolError(`${from} does not exist.`);
          if (await exists(`${toFolder}/${toName}`))
            throw new ToolError(
              `${to} already exists; move refuses to overwrite. Delete it first or pick another name.`,
            );
          const afterSha = st.isFile() ? sha256((await readAt(source, from)).data) : undefined;
          const entry: JournalEntry = {
            id: newId(),
            taskId,
            op: 'move',
            path: from,
            toPath: to,
            at: Date.now(),
            kind: st.isDirectory() ? 'dir' : 'file',
            afterSha,
          };
          return this.change(taskId, entry, async () => {
            // Checked again at the last moment: a rename replaces whatever is there.
            if (await exists(`${toFolder}/${toName}`))
              throw new NothingDone(`${to} appeared meanwhile; move refuses to overwrite. Nothing was moved.`);
            await moveAcross(source, `${toFolder}/${toName}`);
          });
        }),
      ),
    );
  }

  /**
   * Move a path into a fresh trash slot with a note of where it came from; returns its new place.
   * `here` names the path through its folder reached without following links (inParent).
   */
  private async moveToTrash(taskId: string, target: string, id: string, here: string): Promise<string> {
    const trashPath = await this.newTrashSlot(taskId, target, id);
    try {
      await moveAcross(here, trashPath);
    } catch (err) {
      // Nothing went in: a slot left behind would be a trash entry that points at nothing.
      const slot = await this.slotOf(trashPath).catch(() => undefined);
      if (slot) await removeNoFollow(slot).catch(() => undefined);
      throw err;
    }
    return trashPath;
  }

  /** A fresh trash slot with its note; returns where the item goes. */
  private async newTrashSlot(taskId: string, target: string, id: string): Promise<string> {
    const slot = path.join(this.trashDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${id}`);
    await fsp.mkdir(path.join(slot, TRASH_ITEM), { recursive: true, mode: 0o700 });
    await fsp.writeFile(
      path.join(slot, TRASH_NOTE),
      JSON.stringify({ originalPath: target, taskId, at: Date.now() }, null, 2) + '\n',
      { mode: 0o600 },
    );
    return path.join(slot, TRASH_ITEM, path.basename(target));
  }

  /**
   * The trash slot a trashed item's path is in: a folder right inside the trash holding a note,
   * or undefined (a path recorded elsewhere, e.g. through a link to the home, is never removed).
   */
  private async slotOf(trashPath: string): Promise<string | undefined> {
    const parent = path.dirname(trashPath);
    const slot = path.basename(parent) === TRASH_ITEM ? path.dirname(parent) : parent;
    if (path.dirname(slot) !== this.trashDir || !path.basename(slot) || path.basename(slot).startsWith('.'))
      return undefined;
    return (await exists(path.join(slot, TRASH_NOTE))) ? slot : undefined;
  }

  /** Move a file or folder to Errand's trash (restorable: undo, or by hand from the trash folder). */
  trash(taskId: string, target: string): Promise<JournalEntry> {
    return this.turn(taskId, () => this.trashNow(taskId, target));
  }

  private trashNow(taskId: string, target: string): Promise<JournalEntry> {
    return this.noting({ exact: [], trees: [target] }, () =>
      this.inParent(taskId, target, false, async (folder, name) => {
        const here = `${folder}/${name}`;
        const st = await exists(here);
        if (!st) throw new ToolError(`${target} does not exist.`);
        const id = newId();
        const afterSha = st.isFile() ? sha256((await readAt(here, target)).data) : undefined;
        // The slot (with its note) first, so the entry can name where the item goes.
        const trashPath = await this.newTrashSlot(taskId, target, id);
        const entry: JournalEntry = {
          id,
          taskId,
          op: 'trash',
          path: target,
          at: Date.now(),
          kind: st.isDirectory() ? 'dir' : 'file',
          trashPath,
          afterSha,
        };
        return this.change(taskId, entry, () => moveAcross(here, trashPath));
      }),
    );
  }

  /**
   * Journal changes something else already made (a shell command): new folders as mkdir, new files
   * as create, changed files as write (previous content kept as a blob), deleted files as trash (their
   * previous content put in a trash slot, so undo and the trash restore them like a deleted file).
   */
  recordExternal(
    taskId: string,
    changes: ExternalChanges,
    run?: string,
    /** The run's own watch (it is not told its own changes). */
    self?: ToolPaths,
  ): Promise<JournalEntry[]> {
    // In the task's turn, never between an undo's read of the entries and its undone mark. Not
    // after `recovering`: the recovery itself records through here.
    return this.oneAtATime(taskId, () => this.recordExternalNow(taskId, changes, run, self));
  }

  private async recordExternalNow(
    taskId: string,
    changes: ExternalChanges,
    run: string | undefined,
    self: ToolPaths | undefined,
  ): Promise<JournalEntry[]> {
    const out: JournalEntry[] = [];
    const add = (entry: JournalEntry) => out.push(entry);
    // Another shell run in flight in the same folder does not take these for its own when it ends later.
    await this.tell(
      {
        exact: [
          ...changes.dirs,
          ...changes.created.map((c) => c.path),
          ...changes.modified.map((c) => c.path),
          ...changes.deleted.map((c) => c.path),
        ],
        trees: [],
      },
      self,
    );
    for (const dir of changes.dirs) add({ id: newId(), taskId, op: 'mkdir', path: dir, at: Date.now(), kind: 'dir' });
    for (const c of changes.created)
      add({
        id: newId(),
        taskId,
        op: 'create',
        path: c.path,
        at: Date.now(),
        kind: 'file',
        afterSha: c.afterSha,
      });
    for (const c of changes.modified) {
      const beforeBlob = await this.saveBlob(taskId, c.before);
      add({
        id: newId(),
        taskId,
        op: 'write',
        path: c.path,
        at: Date.now(),
        kind: 'file',
        beforeBlob,
        beforeMode: c.mode,
        afterSha: c.afterSha,
      });
    }
    for (const c of changes.deleted) {
      const id = newId();
      const trashPath = await this.newTrashSlot(taskId, c.path, id);
      await writeAtomic(trashPath, c.before, c.mode);
      add({
        id,
        taskId,
        op: 'trash',
        path: c.path,
        at: Date.now(),
        kind: 'file',
        trashPath,
        afterSha: sha256(c.before),
      });
    }
    // One line, one fdatasync: all of the run's changes or (a torn line) none of them.
    if (out.length) await this.append(taskId, { external: out, ...(run ? { run } : {}) });
    return out;
  }

  /** What is in the trash, newest first. */
  async trashList(): Promise<Array<{ id: string; originalPath: string; taskId: string; at: number }>> {
    const slots = await fsp.readdir(this.trashDir).catch(() => [] as string[]);
    const out: Array<{ id: string; originalPath: string; taskId: string; at: number }> = [];
    for (const id of slots) {
      try {
        const note = JSON.parse(await fsp.readFile(path.join(this.trashDir, id, TRASH_NOTE), 'utf8')) as {
          originalPath: string;
          taskId: string;
          at: number;
        };
        out.push({ id, originalPath: note.originalPath, taskId: note.taskId, at: note.at });
      } catch {
        /* not a slot */
      }
    }
    return out.sort((a, b) => b.at - a.at);
  }

  /** Put a trashed item back where it was (`check` confirms that place is still allowed). */
  async restoreFromTrash(id: string, check: (originalPath: string) => Promise<void>): Promise<string> {
    if (!/^[A-Za-z0-9_.-]+$/.test(id) || id.startsWith('.')) throw new ToolError('No such item in the trash.');
    await this.recovering;
    const slot = path.join(this.trashDir, id);
    let note: { originalPath: string };
    try {
      note = JSON.parse(await fsp.readFile(path.join(slot, TRASH_NOTE), 'utf8')) as { originalPath: string };
    } catch {
      throw new ToolError('No such item in the trash.');
    }
    if (typeof note.originalPath !== 'string' || !path.isAbsolute(note.originalPath))
      throw new ToolError('This trash item does not say where it came from; restore it by hand from the trash folder.');
    const source = await slotItem(slot, note.originalPath);
    if (!(await exists(source))) throw new ToolError('This trash item is empty; nothing to restore.');
    await this.noting({ exact: withParents(note.originalPath), trees: [note.originalPath] }, () =>
      placeContained(note.originalPath, check, async (destination) => {
        if (await exists(destination)) throw new ToolError(`${note.originalPath} exists again; move it away first.`);
        await this.beforeRestoreMove(source, note.originalPath);
        await moveAcross(source, destination);
      }),
    );
    await removeNoFollow(slot);
    return note.originalPath;
  }

  /**
   * sha256 of the file at `file` now, streamed (a file of any size, in bounded memory), without
   * following a symbolic link anywhere on its path. Undefined when no regular file is there (gone, or a
   * folder or link now); a ToolError saying why when the one there cannot be compared.
   */
  private async fileSha(file: string): Promise<string | undefined> {
    let h: FileHandle;
    try {
      h = await openNoFollow(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ELOOP is refused as a ToolError by openNoFollow: a link where the file was.
      if (err instanceof ToolError || code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw new ToolError(`${file} could not be opened to check it (${(err as Error).message})`);
    }
    try {
      const stat = await h.stat();
      if (!stat.isFile()) return undefined;
      // Another hard link is fine: this only compares a hash, and undo replaces or moves this one
      // name, never the content the other names share.
      const hash = crypto.createHash('sha256');
      const chunk = Buffer.allocUnsafe(Math.min(HASH_CHUNK, Math.max(stat.size, 1)));
      for (;;) {
        const { bytesRead } = await h.read(chunk, 0, chunk.length, null);
        if (!bytesRead) break;
        hash.update(chunk.subarray(0, bytesRead));
      }
      return hash.digest('hex');
    } catch (err) {
      if (err instanceof ToolError) throw err;
      throw new ToolError(`${file} could not be read to check it (${(err as Error).message})`);
    } finally {
      await h.close().catch(() => undefined);
    }
  }

  /**
   * Undo a task: newest change first. A path whose current state is not what the task left is
   * left alone, as is every earlier change to it, and reported.
   *
   * `delivered` settles once the result reached whoever asked (true: the command's record holding
   * the reply is durable) or never will (false); without it the result counts as reported at once.
   * The undone marks are durable before that record, so a kill -9 in between leaves changes undone
   * whose result nobody got: the next undo (the phone resending the command) reports their paths
   * as restored, as its own, so its reply and changes.updated say what was done.
   */
  undo(taskId: string, delivered?: Promise<boolean>): Promise<UndoResult> {
    // The entries are read inside the turn: a second undo sees what the first undid.
    return this.turn(taskId, () => this.undoNow(taskId, delivered));
  }

  private async undoNow(taskId: string, delivered: Promise<boolean> | undefined): Promise<UndoResult> {
    const all = await this.entries(taskId);
    const { interrupted, unreported } = await this.undoMarks(taskId);
    const attempt = `und_${crypto.randomBytes(8).toString('base64url')}`;
    const by = delivered ? { by: attempt } : {};
    const pending = all.filter((e) => !e.undone).map((e) => e.id);
    if (pending.length) await this.append(taskId, { undoing: pending, at: Date.now(), ...by });
    const result: UndoResult = { restored: [], skipped: [] };
    const adopted = new Set<string>();
    const blocked = new Map<string, string>();
    const done: string[] = [];
    const block = (paths: string[], reason: string) => {
      for (const p of paths)
        if (!blocked.has(p)) {
          blocked.set(p, reason);
          result.skipped.push({ path: p, reason });
        }
    };
    for (const e of [...all].reverse()) {
      const paths = [e.path, ...(e.toPath ? [e.toPath] : [])];
      if (e.undone) {
        const earlier = unreported.get(e.id);
        if (earlier === undefined) continue;
        // Undone by an undo whose result never got out: this undo tells it.
        adopted.add(earlier);
        for (const p of paths) if (!result.restored.includes(p)) result.restored.push(p);
        continue;
      }
      const already = paths.find((p) => blocked.has(p));
      if (already) {
        block(paths, blocked.get(already)!);
        continue;
      }
      try {
        const changed = await this.noting({ exact: paths.flatMap(withParents), trees: paths }, async () =>
          interrupted.has(e.id) && (await this.alreadyReversed(e)) ? undefined : this.undoOne(taskId, e),
        );
        undoCrashPoint(e);
        if (changed) {
          block(paths, changed);
          continue;
        }
        done.push(e.id);
        for (const p of paths) if (!result.restored.includes(p)) result.restored.push(p);
      } catch (err) {
        block(paths, restoreFailure(err, paths));
      }
    }
    if (done.length) await this.append(taskId, { undone: done, at: Date.now(), ...by });
    result.restored = result.restored.filter((p) => !blocked.has(p)).map(this.shown);
    result.skipped = result.skipped.map((s) => ({ path: this.shown(s.path), reason: this.shown(s.reason) }));
    const told = [...adopted, ...(delivered && done.length ? [attempt] : [])];
    if (!delivered) {
      if (told.length) await this.append(taskId, { reported: told, at: Date.now() });
    } else if (told.length) {
      for (const a of told) this.ownUndos.add(a);
      void delivered.then(
        (ok) => this.settleReport(taskId, told, ok),
        () => this.settleReport(taskId, told, false),
      );
    }
    return result;
  }

  /** An undo's result got out (its marks are reported), or did not (the next undo reports them). */
  private async settleReport(taskId: string, attempts: string[], ok: boolean): Promise<void> {
    // Kept in ownUndos once reported: an undo that read the lines before this one lands must not
    // take them for unreported.
    if (!ok) for (const a of attempts) this.ownUndos.delete(a);
    // Lost to a kill -9 first, the next undo names those paths once more: better twice than never.
    else await this.append(taskId, { reported: attempts, at: Date.now() }).catch(() => undefined);
  }

  /**
   * From the undo lines: the changes an earlier undo set out to reverse and never marked undone (a
   * crash, or left as they were), and the changes an earlier undo marked undone whose result never
   * reached anyone (a crash before its command's record was durable), with that undo's id.
   */
  private async undoMarks(taskId: string): Promise<{ interrupted: Set<string>; unreported: Map<string, string> }> {
    const interrupted = new Set<string>();
    const undoneBy = new Map<string, string>();
    const reported = new Set<string>();
    for (const l of await this.lines(taskId)) {
      if ('undoing' in l) for (const id of l.undoing) interrupted.add(id);
      else if ('undone' in l)
        for (const id of l.undone) {
          interrupted.delete(id);
          if (l.by !== undefined) undoneBy.set(id, l.by);
        }
      else if ('reported' in l) for (const a of l.reported) reported.add(a);
    }
    const unreported = new Map<string, string>();
    for (const [id, by] of undoneBy) if (!reported.has(by) && !this.ownUndos.has(by)) unreported.set(id, by);
    return { interrupted, unreported };
  }

  /**
   * Whether the paths are already as they were before the change: an undo a crash cut off reversed
   * it but never marked it. Counted as undone; otherwise the next undo found "changed since the
   * task", reported a restored file as left alone, and left the earlier changes to it undone too.
   */
  private async alreadyReversed(e: JournalEntry): Promise<boolean> {
    switch (e.op) {
      case 'create':
      case 'write':
      case 'edit':
        return e.beforeBlob ? (await this.fileSha(e.path)) === e.beforeBlob : !(await exists(e.path));
      case 'mkdir':
        return !(await exists(e.path));
      case 'move': {
        const st = await exists(e.path);
        if (!st || (await exists(e.toPath!))) return false;
        return e.kind === 'dir' ? st.isDirectory() : (await this.fileSha(e.path)) === e.afterSha;
      }
      case 'trash': {
        if (!(await exists(e.path)) || (e.trashPath && (await exists(e.trashPath)))) return false;
        // The crash may have come between putting it back and removing its emptied trash slot.
        const slot = e.trashPath ? await this.slotOf(e.trashPath).catch(() => undefined) : undefined;
        if (slot) await removeNoFollow(slot);
        return true;
      }
    }
  }

  /** Reverse one change; returns a reason when the path changed since (and nothing was done). */
  private async undoOne(taskId: string, e: JournalEntry): Promise<string | undefined> {
    const changedSince = 'changed since the task; left as it is';
    // Paths were recorded as real paths: a folder on the way that became a link since is not followed.
    for (const p of [e.path, e.toPath]) {
      if (p && (await fsp.realpath(path.dirname(p)).catch(() => path.dirname(p))) !== path.dirname(p)) {
        return 'a folder on its path was replaced by a link since the task; left as it is';
      }
    }
    switch (e.op) {
      case 'create':
      case 'write':
      case 'edit': {
        if ((await this.fileSha(e.path)) !== e.afterSha) return changedSince;
        if (!e.beforeBlob) {
          // The task created it: move it to the trash rather than deleting it.
          await this.inParent(taskId, e.path, false, (folder, name) =>
            this.moveToTrash(taskId, e.path, `undo-${e.id}`, `${folder}/${name}`),
          );
          return undefined;
        }
        const before = await this.readBlob(taskId, e.beforeBlob);
        return this.guardRestore({ target: e.path, files: async () => [{ real: e.path, bytes: before.length }] }, () =>
          placeContained(e.path, this.mayRestoreTo, (destination) => writeAtomic(destination, before, e.beforeMode)),
        );
      }
      case 'mkdir': {
        const st = await exists(e.path);
        if (!st) return undefined;
        if (!st.isDirectory() || (await fsp.readdir(e.path)).length)
          return 'folder is not empty (or changed) since the task; left as it is';
        await this.inParent(taskId, e.path, false, (folder, name) => fsp.rmdir(`${folder}/${name}`));
        return undefined;
      }
      case 'move': {
        if (await exists(e.path)) return `${e.path} exists again; left as it is`;
        const st = await exists(e.toPath!);
        if (!st) return changedSince;
        // What the task moved is a file or a folder, never a link put there since.
        if (e.kind === 'dir' ? !st.isDirectory() : !st.isFile()) return changedSince;
        if (e.kind === 'file' && (await this.fileSha(e.toPath!)) !== e.afterSha) return changedSince;
        // The source is reached through its opened folder too: a folder on its path swapped for a
        // link after the checks above makes the walk fail rather than move something from outside.
        const moved = { target: e.path, from: e.toPath, files: () => filesIn(e.toPath!, e.path) };
        return this.guardRestore(moved, () =>
          this.inParent(taskId, e.toPath!, false, (fromFolder, fromName) =>
            placeContained(e.path, this.mayRestoreTo, async (destination) => {
              if (await exists(destination)) throw new ToolError(`${e.path} exists again; left as it is`);
              const source = `${fromFolder}/${fromName}`;
              const now = await exists(source);
              if (!now || (e.kind === 'dir' ? !now.isDirectory() : !now.isFile()))
                throw new ToolError(`${e.toPath} changed since the task; left as it is`);
              // What was written into a moved folder since comes back with it, marks and all.
              await this.beforeRestoreMove(e.toPath!, e.path);
              await moveAcross(source, destination);
            }),
          ),
        );
      }
      case 'trash': {
        if (await exists(e.path)) return `${e.path} exists again; left as it is`;
        if (!e.trashPath || !(await exists(e.trashPath))) return 'its copy is no longer in the trash';
        const trashPath = e.trashPath;
        const left = await this.guardRestore({ target: e.path, files: () => filesIn(trashPath, e.path) }, () =>
          placeContained(e.path, this.mayRestoreTo, async (destination) => {
            if (await exists(destination)) throw new ToolError(`${e.path} exists again; left as it is`);
            await this.beforeRestoreMove(trashPath, e.path);
            await moveAcross(trashPath, destination);
          }),
        );
        if (left) return left; // its copy stays in the trash, for an undo once there is room
        const slot = await this.slotOf(e.trashPath);
        if (slot) await removeNoFollow(slot);
        return undefined;
      }
    }
  }
}
