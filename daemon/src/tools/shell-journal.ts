// Undo for shell commands: before a command runs, keep the files under its working folder (bounded;
// symlinks are never followed, Errand's own state folder is skipped as everywhere); after it ends,
// compare and journal what it created, modified and deleted, so undoing the task restores them.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { ChangeJournal, ExternalChanges } from './journal.js';
import { readNoFollow } from './journal.js';

export interface SnapshotLimits {
  /** Regular files kept at most. */
  maxFiles: number;
  /** Their bytes in all, at most. */
  maxBytes: number;
}

export const DEFAULT_SNAPSHOT_LIMITS: SnapshotLimits = { maxFiles: 2000, maxBytes: 50 * 1024 * 1024 };

/** Folders, links and other entries count too, so a huge tree of empty folders is bounded as well. */
const entryCap = (l: SnapshotLimits) => l.maxFiles * 10;

interface KeptFile {
  sha: string;
  data: Buffer;
  mode: number;
}

export interface Snapshot {
  root: string;
  files: Map<string, KeptFile>;
  /** Every path that existed (any type), so a changed link or unreadable file is never taken for a new one. */
  present: Set<string>;
}

export type SnapshotResult = { ok: true; snapshot: Snapshot } | { ok: false; reason: string };

export const TOO_LARGE = 'folder too large to snapshot';
export const notUndoable = (reason: string) => `changes made by this command cannot be undone (${reason})`;

type Visit = (full: string, st: fs.Stats) => Promise<boolean | void>;

/** Walk a folder without following links; `visit` returns false to stop. Unreadable folders are not entered. */
async function walk(root: string, skip: (p: string) => boolean, visit: Visit): Promise<boolean> {
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
      if (!st) continue;
      if ((await visit(full, st)) === false) return false;
      if (st.isDirectory()) stack.push(full);
    }
  }
  return true;
}

const trackable = (st: fs.Stats) => st.isFile() && st.nlink === 1;

/** Keep the content of every regular file under `root`, or say why not (over the limits). */
export async function takeSnapshot(
  root: string,
  skip: (p: string) => boolean,
  limits: SnapshotLimits = DEFAULT_SNAPSHOT_LIMITS,
): Promise<SnapshotResult> {
  const snapshot: Snapshot = { root, files: new Map(), present: new Set() };
  let bytes = 0;
  let tooLarge = false;
  try {
    await walk(root, skip, async (full, st) => {
      snapshot.present.add(full);
      if (snapshot.present.size > entryCap(limits)) {
        tooLarge = true;
        return false;
      }
      if (!trackable(st)) return;
      if (snapshot.files.size + 1 > limits.maxFiles || bytes + st.size > limits.maxBytes) {
        tooLarge = true;
        return false;
      }
      try {
        const { data, stat } = await readNoFollow(full);
        bytes += data.length;
        if (bytes > limits.maxBytes) {
          tooLarge = true;
          return false;
        }
        snapshot.files.set(full, {
          sha: crypto.createHash('sha256').update(data).digest('hex'),
          data,
          mode: stat.mode & 0o7777,
        });
      } catch {
        /* unreadable or changed under us: not tracked (and not taken for new afterwards) */
      }
    });
  } catch (err) {
    return { ok: false, reason: `the folder could not be read: ${(err as Error).message}` };
  }
  return tooLarge ? { ok: false, reason: TOO_LARGE } : { ok: true, snapshot };
}

/** sha256 of a regular file, streamed, without following a link at its last component. */
async function hashNoFollow(file: string): Promise<string | undefined> {
  let h: fsp.FileHandle | undefined;
  try {
    h = await fsp.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    const st = await h.stat();
    if (!trackable(st)) return undefined;
    const hash = crypto.createHash('sha256');
    for await (const chunk of h.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } catch {
    return undefined;
  } finally {
    await h?.close().catch(() => undefined);
  }
}

export interface DiffResult {
  changes: ExternalChanges;
  count: number;
  incomplete: boolean;
}

/** Compare the folder now with the snapshot: folders and files created, files modified or deleted. */
export async function diffSnapshot(
  snap: Snapshot,
  skip: (p: string) => boolean,
  limits: SnapshotLimits = DEFAULT_SNAPSHOT_LIMITS,
): Promise<DiffResult> {
  const changes: ExternalChanges = { dirs: [], created: [], modified: [], deleted: [] };
  const seen = new Set<string>();
  let visited = 0;
  const complete = await walk(snap.root, skip, async (full, st) => {
    if (++visited > entryCap(limits) * 2) return false;
    seen.add(full);
    const before = snap.files.get(full);
    if (st.isDirectory()) {
      if (!snap.present.has(full)) changes.dirs.push(full);
      return;
    }
    if (!trackable(st)) return;
    if (!before && snap.present.has(full)) return; // it was something we did not keep (a link, say): left out
    const sha = await hashNoFollow(full);
    if (sha === undefined) return;
    if (!before) changes.created.push({ path: full, afterSha: sha });
    else if (before.sha !== sha)
      changes.modified.push({ path: full, before: before.data, mode: before.mode, afterSha: sha });
  }).catch(() => false);
  for (const [file, kept] of snap.files) {
    const st = await fsp.lstat(file).catch(() => undefined);
    // Still a file: compared above. Not visited (the walk stopped early) but still there: left alone.
    if (st && (st.isFile() || !seen.has(file))) continue;
    // Gone, or replaced by a folder or a link: its content is kept for undo (which leaves alone what is there now).
    changes.deleted.push({ path: file, before: kept.data, mode: kept.mode });
  }
  // Parents before children, so undo (newest first) removes the children first.
  changes.dirs.sort((a, b) => a.split(path.sep).length - b.split(path.sep).length || a.localeCompare(b));
  const count = changes.dirs.length + changes.created.length + changes.modified.length + changes.deleted.length;
  return { changes, count, incomplete: !complete };
}

/** Snapshot, run, compare, journal. Returns a note for the tool result and whether the journal changed. */
export async function withShellUndo<T>(opts: {
  journal: ChangeJournal;
  taskId: string;
  cwd: string;
  skip: (p: string) => boolean;
  limits?: SnapshotLimits;
  run: () => Promise<T>;
}): Promise<{ value: T; note: string; changed: boolean; undoable: boolean }> {
  const limits = opts.limits ?? DEFAULT_SNAPSHOT_LIMITS;
  const snap = await takeSnapshot(opts.cwd, opts.skip, limits);
  const value = await opts.run();
  if (!snap.ok) return { value, note: notUndoable(snap.reason), changed: false, undoable: false };
  let diff: DiffResult;
  try {
    diff = await diffSnapshot(snap.snapshot, opts.skip, limits);
    if (diff.count) await opts.journal.recordExternal(opts.taskId, diff.changes);
  } catch (err) {
    return {
      value,
      note: notUndoable(`recording them failed: ${(err as Error).message}`),
      changed: false,
      undoable: false,
    };
  }
  const c = diff.changes;
  const parts = [
    c.created.length && `${c.created.length} created`,
    c.modified.length && `${c.modified.length} modified`,
    c.deleted.length && `${c.deleted.length} deleted`,
    c.dirs.length && `${c.dirs.length} folder${c.dirs.length === 1 ? '' : 's'} created`,
  ].filter(Boolean);
  const more = diff.incomplete
    ? '; the folder grew too large to compare in full, so some new files may not be undoable'
    : '';
  const note = parts.length
    ? `file changes recorded for undo: ${parts.join(', ')}${more}`
    : `no file changes under ${opts.cwd}${more}`;
  return { value, note, changed: diff.count > 0, undoable: true };
}
