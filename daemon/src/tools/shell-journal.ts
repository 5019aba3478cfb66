// Undo for shell commands: before a command runs, keep the files under its working folder (bounded;
// symlinks are never followed, Errand's own state folder is skipped, and so are the temp files of
// the tools' writes in flight); after it ends, compare and journal what it created, modified
// (content or mode) and deleted, so undoing the task restores them. The comparison reads within
// bounds (shell-compare.ts): what it could not compare is said, and the step is then not undoable.
// What Errand's own tools changed meanwhile (other tasks' file writes, moves, undos) is theirs,
// not the command's: the change journal tells each run in flight (ChangeJournal.watch).
//
// What is kept is made durable before the command starts: contents in the kept store's packs
// (shell-kept.ts; a file unchanged since an earlier run is not read or written again), and a run
// file (journal/.shell-runs/run_<id>.run) naming each file's hash and where its content lies. The
// run file is removed once the command's changes are journaled: after a kill -9 mid-command the
// next start compares the folder with it and journals what the command changed.
import crypto from 'node:crypto';
import type fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir } from '../util/durable-file.js';
import { HashBudget, hashRegular, type LeftReason, reachNoFollow, readRegular } from './shell-compare.js';
import type { KeptAt, KeptStore } from './shell-kept.js';

export interface SnapshotLimits {
  /** Regular files kept at most. */
  maxFiles: number;
  /** Their bytes in all, at most. */
  maxBytes: number;
  /** Bytes of one changed file hashed after the command, at most (past it, its change is not undoable). */
  maxHashFile?: number;
  /** Bytes of all changed files hashed after the command, at most. */
  maxHashBytes?: number;
}

export const DEFAULT_SNAPSHOT_LIMITS: SnapshotLimits = {
  maxFiles: 2000,
  maxBytes: 50 * 1024 * 1024,
  maxHashFile: 256 * 1024 * 1024,
  maxHashBytes: 1024 * 1024 * 1024,
};

/** Folders, links and other entries count too, so a huge tree of empty folders is bounded as well. */
const entryCap = (l: SnapshotLimits) => l.maxFiles * 10;

interface KeptFile {
  sha: string;
  /** The content in memory, until it is in the kept store (or when the store could not take it). */
  data?: Buffer;
  /** Where the content lies in the kept store. */
  at?: KeptAt;
  mode: number;
  /** Its stat when it was read (statSignature); none for files read back after a crash. */
  sig?: string;
}

export interface Snapshot {
  root: string;
  /** Date.now() before the walk began: files changed since may share a timestamp with a later change. */
  takenAt: number;
  files: Map<string, KeptFile>;
  /** Every path that existed (any type), so a changed link or unreadable file is never taken for a new one. */
  present: Set<string>;
  /** The kept store's packs this snapshot refers to: held until its run ends. */
  held: Set<string>;
}

export interface ExternalChanges {
  /** New folders, parents first. */
  dirs: string[];
  created: Array<{ path: string; afterSha: string }>;
  modified: Array<{ path: string; before: Buffer; mode: number; afterSha: string }>;
  /** Deleted files, with their content before. */
  deleted: Array<{ path: string; before: Buffer; mode: number }>;
}

export interface ToolWatch {
  /** What the tools changed or are changing since the watch began (or were changing when it began). */
  readonly paths: ToolPaths;
  /** Where the durable touch log stood when the watch began. */
  readonly offset: number;
  close(): void;
}

/**
 * What a shell run needs of the change journal (journal.ts's ChangeJournal): said here, so this file
 * does not import the journal that imports it.
 */
export interface ShellRunJournal {
  readonly runsDir: string;
  readonly kept: KeptStore;
  runFile(runId: string): string;
  ready(): Promise<void>;
  watch(): ToolWatch;
  hasRun(taskId: string, runId: string): Promise<boolean>;
  recordExternal(taskId: string, changes: ExternalChanges, run?: string, self?: ToolPaths): Promise<unknown>;
}

/** Paths Errand's tools change: `exact` ones, and `trees` (moved or trashed: with all inside). */
export interface ToolNote {
  exact: string[];
  trees: string[];
}

/** What Errand's own tools changed while a command ran: never the command's. */
export class ToolPaths {
  readonly notes: ToolNote[] = [];
  private readonly exact = new Set<string>();
  private readonly trees = new Set<string>();
  /** The folders of the `exact` paths: where the tools' writes put their temp files. */
  private readonly folders = new Set<string>();

  add(note: ToolNote): void {
    if (!note || !Array.isArray(note.exact) || !Array.isArray(note.trees)) return;
    this.notes.push(note);
    for (const p of note.exact)
      if (typeof p === 'string') {
        this.exact.add(p);
        this.folders.add(path.dirname(p));
      }
    for (const p of note.trees) if (typeof p === 'string') this.trees.add(p);
  }

  /** The tools write (or wrote) a file in `dir`. */
  writesIn(dir: string): boolean {
    return this.folders.has(dir);
  }

  /** The tools changed `p` itself, or moved or trashed something it is in. */
  covers(p: string): boolean {
    if (this.exact.has(p) || this.trees.has(p)) return true;
    if (!this.trees.size) return false;
    for (let d = path.dirname(p); d !== path.dirname(d); d = path.dirname(d)) if (this.trees.has(d)) return true;
    return false;
  }
}

/** The temp file a tool's write makes beside its target (no-follow.ts writeAtomicIn). */
const TOOL_TEMP = /^\.errand-[0-9a-f]{12}\.tmp$/;
/**
 * A regular file that is the temp file of a write of Errand's tools (told to this run): not the
 * command's. Only such files, in a folder the tools write in: a command's own file or folder named
 * like one is compared like any other.
 */
export const toolTempOf =
  (theirs: ToolPaths) =>
  (p: string): boolean =>
    TOOL_TEMP.test(path.basename(p)) && theirs.writesIn(path.dirname(p));

export type SnapshotResult = { ok: true; snapshot: Snapshot } | { ok: false; reason: string };

export const TOO_LARGE = 'folder too large to snapshot';
export const notUndoable = (reason: string) => `changes made by this command cannot be undone (${reason})`;

type Visit = (full: string, st: fs.Stats) => Promise<boolean | void>;

/**
 * Walk a folder without following links; `visit` returns false to stop. Unreadable folders are not
 * entered; regular files `toolTemp` names are left out.
 */
async function walk(
  root: string,
  skip: (p: string) => boolean,
  toolTemp: ((p: string) => boolean) | undefined,
  visit: Visit,
): Promise<boolean> {
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop()!;
    let names: string[];
    try {
      names = await fsp.readdir(dir);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      const full = path.join(dir, name);
      if (skip(full)) continue;
      const st = await fsp.lstat(full).catch(() => undefined);
      if (!st || (st.isFile() && toolTemp?.(full))) continue;
      if ((await visit(full, st)) === false) return false;
      if (st.isDirectory()) stack.push(full);
    }
  }
  return true;
}

/**
 * What changes whenever a file's content does: its ctime is set by the kernel on every write,
 * rename or chmod, and no unprivileged program can set it back (unlike mtime). So a file whose
 * signature is the same as when it was kept has the same content, and is not read again.
 */
export const statSignature = (st: fs.Stats): string =>
  `${st.dev}:${st.ino}:${st.size}:${st.mode}:${st.mtimeMs}:${st.ctimeMs}`;

/**
 * A file whose ctime is this close to (or after) the moment it was kept is read again all the same:
 * a change made within the same timestamp tick as the keeping would leave the signature as it was.
 */
const RACY_MS = 2000;
const settledBefore = (st: fs.Stats, at: number) => st.ctimeMs < at - RACY_MS;

/** Content kept in memory, or read back from the kept store. */
const contentOf = async (k: KeptFile, store?: KeptStore): Promise<Buffer | undefined> =>
  k.data ?? (k.at && store ? await store.read(k.at, k.sha) : undefined);

/**
 * Keep the content of every regular file under `root` (hard-linked ones too), or say why not (over
 * the limits). With a kept store, a file whose signature is as remembered and whose content is in
 * the store is not read: the snapshot refers to the store (and holds its pack; the caller releases
 * `held`).
 */
export async function takeSnapshot(
  root: string,
  skip: (p: string) => boolean,
  limits: SnapshotLimits = DEFAULT_SNAPSHOT_LIMITS,
  store?: KeptStore,
  toolTemp?: (p: string) => boolean,
): Promise<SnapshotResult> {
  const takenAt = Date.now();
  const snapshot: Snapshot = { root, takenAt, files: new Map(), present: new Set(), held: new Set() };
  let bytes = 0;
  let tooLarge = false;
  try {
    await walk(root, skip, toolTemp, async (full, st) => {
      snapshot.present.add(full);
      if (snapshot.present.size > entryCap(limits)) {
        tooLarge = true;
        return false;
      }
      if (!st.isFile()) return;
      if (snapshot.files.size + 1 > limits.maxFiles || bytes + st.size > limits.maxBytes) {
        tooLarge = true;
        return false;
      }
      const sig = statSignature(st);
      const known = store?.knownFile(full);
      const at = known?.sig === sig && settledBefore(st, known.at) ? store?.locate(known.sha) : undefined;
      if (known && at) {
        // Held at once (no await between): the store cannot remove the pack under this snapshot.
        if (!snapshot.held.has(at.pack)) {
          store!.hold([at.pack]);
          snapshot.held.add(at.pack);
        }
        bytes += at.length;
        snapshot.files.set(full, { sha: known.sha, at, mode: st.mode & 0o7777, sig });
        return;
      }
      // Reached without following a link on its folders; unreadable or gone: not tracked (and not
      // taken for new afterwards, as it is present).
      const reached = reachNoFollow(full);
      if (!reached) return;
      let read: Awaited<ReturnType<typeof readRegular>>;
      try {
        read = await readRegular(reached.at, limits.maxBytes - bytes);
      } finally {
        reached.close();
      }
      if (read === 'too large') {
        tooLarge = true;
        return false;
      }
      if (!read) return;
      const { data, stat } = read;
      bytes += data.length;
      const readSig = statSignature(stat);
      const sha = crypto.createHash('sha256').update(data).digest('hex');
      store?.remember(full, { sig: readSig, sha, at: takenAt });
      snapshot.files.set(full, { sha, data, mode: stat.mode & 0o7777, sig: readSig });
    });
  } catch (err) {
    store?.release(snapshot.held);
    return { ok: false, reason: `the folder could not be read: ${(err as Error).message}` };
  }
  if (!tooLarge) return { ok: true, snapshot };
  store?.release(snapshot.held);
  return { ok: false, reason: TOO_LARGE };
}

export interface DiffResult {
  changes: ExternalChanges;
  count: number;
  /** The walk stopped at its cap: new files and folders past it are not recorded. */
  incomplete: boolean;
  /**
   * Changed files that could not be compared (hashing them was over a bound, or they could not be
   * read, e.g. the command took away read permission): their changes are not recorded.
   */
  leftOut: Array<{ path: string; why: LeftReason | 'unreadable' }>;
}

const hashBounds = (limits: SnapshotLimits) => ({
  perFile: limits.maxHashFile ?? DEFAULT_SNAPSHOT_LIMITS.maxHashFile!,
  total: limits.maxHashBytes ?? DEFAULT_SNAPSHOT_LIMITS.maxHashBytes!,
});

/** How much the comparison after a command may hash; once the task is cancelled, little more. */
export const hashBudgetFor = (limits: SnapshotLimits, signal?: AbortSignal): HashBudget =>
  new HashBudget({ ...hashBounds(limits), signal, afterCancel: limits.maxBytes });

/**
 * Compare the folder now with the snapshot: folders and files created, files modified (content or
 * mode) or deleted. What `theirs` covers (Errand's tools changed it meanwhile) is left out. Every
 * kept file is compared, the walk's cap or not: one the walk did not reach is reached directly.
 */
export async function diffSnapshot(
  snap: Snapshot,
  skip: (p: string) => boolean,
  limits: SnapshotLimits = DEFAULT_SNAPSHOT_LIMITS,
  theirs?: ToolPaths,
  store?: KeptStore,
  budget: HashBudget = hashBudgetFor(limits),
): Promise<DiffResult> {
  const changes: ExternalChanges = { dirs: [], created: [], modified: [], deleted: [] };
  const leftOut: DiffResult['leftOut'] = [];
  /** Paths the walk visited; of the kept ones, those it found a regular file (compared there). */
  const seen = new Set<string>();
  const compared = new Set<string>();
  const notMine = (p: string) => theirs?.covers(p) ?? false;

  /** Compare the regular file at `full` (opened as `at`) with what was kept of it, if anything. */
  const compare = async (full: string, at: string, st: fs.Stats, before: KeptFile | undefined) => {
    // Unchanged since it was kept (and not changed within the tick it was kept in): not read again.
    if (before?.sig !== undefined && before.sig === statSignature(st) && settledBefore(st, snap.takenAt)) return;
    if (notMine(full)) return;
    const got = await hashRegular(at, budget);
    if (got === undefined) {
      // Still a regular file, yet it could not be opened or read (chmod 000, say): what the command
      // did to it is unknown, so it is said, and the step is not undoable. (Gone or no regular file
      // by now: as before, nothing to compare.)
      if ((await fsp.lstat(at).catch(() => undefined))?.isFile()) leftOut.push({ path: full, why: 'unreadable' });
      return;
    }
    if ('left' in got) return void leftOut.push({ path: full, why: got.left });
    if (!before) return void changes.created.push({ path: full, afterSha: got.sha });
    if (before.sha === got.sha && before.mode === got.mode) return;
    const kept = await contentOf(before, store);
    // Its content could not be read back (the kept store was damaged): left out, as a file not kept.
    if (kept) changes.modified.push({ path: full, before: kept, mode: before.mode, afterSha: got.sha });
  };

  let visited = 0;
  const complete = await walk(snap.root, skip, theirs && toolTempOf(theirs), async (full, st) => {
    if (++visited > entryCap(limits) * 2) return false;
    seen.add(full);
    const before = snap.files.get(full);
    if (st.isDirectory()) {
      if (!snap.present.has(full) && !notMine(full)) changes.dirs.push(full);
      return;
    }
    if (!st.isFile()) return;
    if (before) compared.add(full);
    else if (snap.present.has(full)) return; // it was something we did not keep (a link, say): left out
    await compare(full, full, st, before);
  }).catch(() => false);

  const deleted = async (file: string, kept: KeptFile) => {
    const before = await contentOf(kept, store);
    if (before) changes.deleted.push({ path: file, before, mode: kept.mode });
  };
  for (const [file, kept] of snap.files) {
    if (compared.has(file) || notMine(file)) continue;
    // Visited, but no regular file now (a folder, a link): its content is kept for undo (which
    // leaves alone what is there now).
    if (seen.has(file)) {
      await deleted(file, kept);
      continue;
    }
    // Not visited: gone, or its folder is gone or now a link (what is at the link's target is not
    // this file), or the walk stopped before it. Reached without links, and compared there.
    const reached = reachNoFollow(file);
    if (!reached) {
      await deleted(file, kept);
      continue;
    }
    try {
      const st = await fsp.lstat(reached.at).catch(() => undefined);
      if (st?.isFile()) await compare(file, reached.at, st, kept);
      else await deleted(file, kept);
    } finally {
      reached.close();
    }
  }
  // Parents before children, so undo (newest first) removes the children first.
  changes.dirs.sort((a, b) => a.split(path.sep).length - b.split(path.sep).length || a.localeCompare(b));
  const count = changes.dirs.length + changes.created.length + changes.modified.length + changes.deleted.length;
  return { changes, count, incomplete: !complete, leftOut };
}

/**
 * A run file: u32 LE length of the head, then the head (JSON). Version 2 names where each kept
 * file's content lies in the kept store; version 1 (earlier releases) had the contents after the
 * head, in its order.
 */
interface RunHead {
  v: 1 | 2;
  id: string;
  taskId: string;
  root: string;
  at: number;
  /** Where the change journal's touch log stood when the run began: what the tools changed after is there. */
  offset: number;
  /** What the tools were changing when the run began, or changed before its head was written. */
  notes: ToolNote[];
  limits: SnapshotLimits;
  /** Paths the walk skipped as Errand's own state (the same are skipped when it is compared after a crash). */
  skipped: string[];
  present: string[];
  /** [path, sha256, mode, bytes] and, in version 2, [pack, offset] in the kept store. */
  files: Array<[string, string, number, number, string?, number?]>;
}

/**
 * Make the snapshot durable (then the command may run): the contents not in the kept store yet go
 * there as one pack, then the run file names them all. Returns the run's id. The contents then
 * leave memory.
 */
async function keepRun(
  journal: ShellRunJournal,
  taskId: string,
  snap: Snapshot,
  skipped: string[],
  limits: SnapshotLimits,
  watch: ToolWatch,
): Promise<string> {
  const store = journal.kept;
  const fresh = new Map<string, Buffer>();
  for (const k of snap.files.values()) {
    if (k.at || !k.data || fresh.has(k.sha)) continue;
    const at = store.locate(k.sha); // the same content kept already (another file, an earlier run)
    if (!at) {
      fresh.set(k.sha, k.data);
      continue;
    }
    // Taken (and held) now: another run's pack may take over this content's place while ours is
    // written, and only a held pack is sure to stay.
    k.at = at;
    if (!snap.held.has(at.pack)) {
      store.hold([at.pack]);
      snap.held.add(at.pack);
    }
  }
  const placed = await store.add(fresh);
  for (const { pack } of placed.values()) snap.held.add(pack); // held by add
  for (const k of snap.files.values()) k.at ??= placed.get(k.sha);
  const id = `run_${crypto.randomBytes(8).toString('hex')}`;
  const head: RunHead = {
    v: 2,
    id,
    taskId,
    root: snap.root,
    at: Date.now(),
    offset: watch.offset,
    notes: [...watch.paths.notes],
    limits,
    skipped,
    present: [...snap.present],
    files: [...snap.files].map(([p, k]) => [p, k.sha, k.mode, k.at!.length, k.at!.pack, k.at!.offset]),
  };
  const headBytes = Buffer.from(JSON.stringify(head));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(headBytes.length);
  const file = journal.runFile(id);
  await fsp.mkdir(journal.runsDir, { recursive: true, mode: 0o700 });
  const h = await fsp.open(file, 'wx', 0o600);
  try {
    await h.writeFile(Buffer.concat([len, headBytes]));
    await h.datasync();
  } catch (err) {
    await h.close().catch(() => undefined);
    await fsp.rm(file, { force: true }).catch(() => undefined);
    throw err;
  }
  await h.close();
  await fsyncDir(journal.runsDir);
  for (const k of snap.files.values()) k.data = undefined;
  return id;
}

/** The run's file is no longer needed: its changes are journaled (durably), or there were none. */
async function dropRun(journal: ShellRunJournal, id: string, recorded: boolean): Promise<void> {
  await fsp.rm(journal.runFile(id), { force: true });
  // Nothing else says the run ended: the removal itself must last, or the next start compares again.
  if (!recorded) await fsyncDir(journal.runsDir);
}

const validEntry = (e: unknown): e is [string, string, number, number, string?, number?] =>
  Array.isArray(e) &&
  typeof e[0] === 'string' &&
  typeof e[1] === 'string' &&
  Number.isInteger(e[2]) &&
  Number.isSafeInteger(e[3]) &&
  e[3] >= 0;

/** A run file read back, or undefined when it is torn (the crash came before the command started). */
function readRun(data: Buffer): { head: RunHead; snapshot: Snapshot } | undefined {
  if (data.length < 4) return undefined;
  const len = data.readUInt32LE(0);
  if (4 + len > data.length) return undefined;
  let head: RunHead;
  try {
    head = JSON.parse(data.subarray(4, 4 + len).toString('utf8')) as RunHead;
  } catch {
    return undefined;
  }
  if (
    (head?.v !== 1 && head?.v !== 2) ||
    !Array.isArray(head.files) ||
    !head.files.every(validEntry) ||
    !Array.isArray(head.present) ||
    !path.isAbsolute(head.root)
  )
    return undefined;
  const snapshot: Snapshot = {
    root: head.root,
    takenAt: head.at,
    files: new Map(),
    present: new Set(head.present),
    held: new Set(),
  };
  let off = 4 + len;
  for (const [p, sha, mode, bytes, pack, offset] of head.files) {
    if (head.v === 2) {
      // Read back (and its hash checked) only if the comparison needs it.
      if (typeof pack === 'string' && Number.isSafeInteger(offset))
        snapshot.files.set(p, { sha, mode, at: { pack, offset: offset!, length: bytes } });
      continue;
    }
    if (off + bytes > data.length) return undefined;
    const kept = data.subarray(off, off + bytes);
    off += bytes;
    // A file whose bytes do not match is treated as one that was not kept (undo leaves it alone).
    if (crypto.createHash('sha256').update(kept).digest('hex') === sha)
      snapshot.files.set(p, { sha, data: Buffer.from(kept), mode });
  }
  return { head, snapshot };
}

/**
 * After a crash: journal what the command of a run file changed (the folder now against the kept
 * files, leaving out what the tools changed meanwhile, from the touch log), then remove the file.
 * Called by the change journal at start, before any change or new run.
 */
export async function recoverRun(journal: ShellRunJournal, file: string, touchLog: Buffer): Promise<void> {
  const run = readRun(await fsp.readFile(file));
  if (run && !(await journal.hasRun(run.head.taskId, run.head.id))) {
    const theirs = new ToolPaths();
    for (const n of run.head.notes ?? []) theirs.add(n);
    if (touchLog.length > run.head.offset)
      for (const line of touchLog.subarray(run.head.offset).toString('utf8').split('\n')) {
        try {
          if (line) theirs.add(JSON.parse(line) as ToolNote);
        } catch {
          /* a torn last line */
        }
      }
    const skipped = new Set(run.head.skipped ?? []);
    const limits = run.head.limits ?? DEFAULT_SNAPSHOT_LIMITS;
    // Every file tool waits for this (ready()): what it hashes is bounded by the snapshot's own
    // size, and a changed file past that is left out (not undoable) rather than read for minutes.
    const bounds = hashBounds(limits);
    const budget = new HashBudget({ ...bounds, total: Math.min(bounds.total, limits.maxBytes), afterCancel: 0 });
    const diff = await diffSnapshot(run.snapshot, (p) => skipped.has(p), limits, theirs, journal.kept, budget);
    if (diff.count) await journal.recordExternal(run.head.taskId, diff.changes, run.head.id);
  }
  await fsp.rm(file, { force: true });
}

/**
 * Snapshot, run, compare, journal. Returns a note for the tool result, whether the journal changed,
 * and whether every change the command made under `cwd` was compared (`complete`).
 */
export async function withShellUndo<T>(opts: {
  journal: ShellRunJournal;
  taskId: string;
  cwd: string;
  skip: (p: string) => boolean;
  limits?: SnapshotLimits;
  /** The task's cancel: the comparison after the command then hashes little more. */
  signal?: AbortSignal;
  /** Where else the command could write (it is not compared there), for the note. */
  alsoWrites?: string;
  run: () => Promise<T>;
}): Promise<{ value: T; note: string; changed: boolean; undoable: boolean; complete: boolean }> {
  const limits = opts.limits ?? DEFAULT_SNAPSHOT_LIMITS;
  await opts.journal.ready();
  // From here on, what Errand's tools change is told to this run (and was being changed is known).
  const watch = opts.journal.watch();
  let held: Set<string> | undefined;
  try {
    const skipped: string[] = [];
    const skip = (p: string) => {
      if (!opts.skip(p)) return false;
      skipped.push(p);
      return true;
    };
    const snap = await takeSnapshot(opts.cwd, skip, limits, opts.journal.kept, toolTempOf(watch.paths));
    if (snap.ok) held = snap.snapshot.held;
    let runId: string | undefined;
    let unkept = '';
    if (snap.ok)
      try {
        runId = await keepRun(opts.journal, opts.taskId, snap.snapshot, skipped, limits, watch);
      } catch (err) {
        unkept = `; what it changes is kept in memory only (${(err as Error).message}), so a crash while it runs would lose it`;
      }
    let value: T;
    try {
      value = await opts.run();
    } catch (err) {
      // Still journal what it changed, then fail as it did.
      if (snap.ok) await record(opts, snap.snapshot, skip, limits, watch, runId).catch(() => undefined);
      throw err;
    }
    if (!snap.ok) return { value, note: notUndoable(snap.reason), changed: false, undoable: false, complete: false };
    let diff: DiffResult;
    try {
      diff = await record(opts, snap.snapshot, skip, limits, watch, runId);
    } catch (err) {
      return {
        value,
        note: notUndoable(`recording them failed: ${(err as Error).message}`),
        changed: false,
        undoable: false,
        complete: false,
      };
    }
    const c = diff.changes;
    const parts = [
      c.created.length && `${c.created.length} created`,
      c.modified.length && `${c.modified.length} modified`,
      c.deleted.length && `${c.deleted.length} deleted`,
      c.dirs.length && `${c.dirs.length} folder${c.dirs.length === 1 ? '' : 's'} created`,
    ].filter(Boolean);
    const caveats = [
      diff.incomplete &&
        'the folder grew too large to compare in full: new files and folders past that point are not recorded and cannot be undone',
      diff.leftOut.length && leftOutNote(diff.leftOut, opts.cwd, limits),
    ].filter(Boolean);
    // Outside its folder nothing was compared: the note never lets "no file changes" stand for there.
    const elsewhere = opts.alsoWrites
      ? [`changes it made outside ${opts.cwd} (${opts.alsoWrites}) are not compared, so not recorded for undo`]
      : [];
    const more = [...caveats, ...elsewhere].map((c) => `; ${c}`).join('');
    const note = parts.length
      ? `file changes recorded for undo: ${parts.join(', ')}${more}${unkept}`
      : `no file changes ${caveats.length ? 'recorded ' : ''}under ${opts.cwd}${more}`;
    // Part of what it changed cannot be undone: the step says so (not undoable), whatever was recorded.
    return { value, note, changed: diff.count > 0, undoable: !caveats.length, complete: !caveats.length };
  } finally {
    watch.close();
    if (held) opts.journal.kept.release(held);
  }
}

/** Compare, journal the command's changes (one durable line), then drop the run file. */
async function record(
  opts: { journal: ShellRunJournal; taskId: string; signal?: AbortSignal },
  snap: Snapshot,
  skip: (p: string) => boolean,
  limits: SnapshotLimits,
  watch: ToolWatch,
  runId: string | undefined,
): Promise<DiffResult> {
  const budget = hashBudgetFor(limits, opts.signal);
  const diff = await diffSnapshot(snap, skip, limits, watch.paths, opts.journal.kept, budget);
  if (diff.count) await opts.journal.recordExternal(opts.taskId, diff.changes, runId, watch.paths);
  // A run file left by a failure here is compared again at the next start (its run id then found journaled).
  if (runId) await dropRun(opts.journal, runId, diff.count > 0).catch(() => undefined);
  return diff;
}

const MB = 1024 * 1024;
const size = (n: number) => (n >= MB ? `${Math.round(n / MB)} MB` : `${n} bytes`);

/** Which changed files were not compared, and why, for the step's note (a few named). */
function leftOutNote(left: DiffResult['leftOut'], cwd: string, limits: SnapshotLimits): string {
  const bounds = hashBounds(limits);
  const why: Record<LeftReason | 'unreadable', string> = {
    'too large': `over ${size(bounds.perFile)}`,
    unreadable: 'it could not be read',
    'over budget': `past the ${size(bounds.total)} compared in all`,
    cancelled: 'the task was cancelled',
  };
  const named = left.slice(0, 3).map((l) => `${path.relative(cwd, l.path)} (${why[l.why]})`);
  const rest = left.length > named.length ? ` and ${left.length - named.length} more` : '';
  const n = left.length;
  return `${n} changed file${n === 1 ? '' : 's'} could not be compared, so ${n === 1 ? 'its change is' : 'their changes are'} not recorded and cannot be undone: ${named.join(', ')}${rest}`;
}
