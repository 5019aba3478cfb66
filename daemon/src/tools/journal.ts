// The change journal: every change a task makes to a file goes through here, which keeps the
// previous content first (content-addressed blobs under journal/<taskId>/blobs) and records the
// change. Undo walks a task's changes backwards and restores each path to its state before the
// task, leaving alone (and reporting) any path that changed since. Delete means "move to trash".
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { ChangeEntry } from '../../../shared/src/index.js';
import { FolderIndex } from '../util/folder-index.js';
import { moveAcross, removeNoFollow } from './move-across.js';
import { inFolder, openNoFollow, writeAtomicIn } from './no-follow.js';
import { type PlaceCheck, placeContained } from './safe-place.js';
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
export interface ExternalChanges {
  /** New folders, parents first. */
  dirs: string[];
  created: Array<{ path: string; afterSha: string }>;
  modified: Array<{ path: string; before: Buffer; mode: number; afterSha: string }>;
  /** Deleted files, with their content before. */
  deleted: Array<{ path: string; before: Buffer; mode: number }>;
}

type JournalLine = { entry: JournalEntry } | { undone: string[]; at: number };

export interface UndoResult {
  restored: string[];
  /** Paths left alone, with the reason (changed since the task, or an error). */
  skipped: Array<{ path: string; reason: string }>;
}

const newId = () => `chg_${crypto.randomBytes(8).toString('base64url')}`;

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

  constructor(
    private readonly dir: string,
    private readonly trashDir: string,
    /** The roots check at the moment of a restore: undo writes only where tools may write now. */
    private readonly mayRestoreTo: PlaceCheck = async () => undefined,
  ) {
    this.withChanges = new FolderIndex(dir);
  }

  private taskDir(taskId: string): string {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(taskId) || taskId.includes('..'))
      throw new ToolError(`invalid task id "${taskId.slice(0, 40)}"`);
    return path.join(this.dir, taskId);
  }

  private async append(taskId: string, line: JournalLine): Promise<void> {
    const dir = this.taskDir(taskId);
    this.withChanges.add(taskId);
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    const h = await fsp.open(path.join(dir, 'changes.jsonl'), 'a', 0o600);
    try {
      await h.write(JSON.stringify(line) + '\n');
      await h.datasync();
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

  /** Every change of a task, oldest first, with undone marks applied. */
  async entries(taskId: string): Promise<JournalEntry[]> {
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
    const entries: JournalEntry[] = [];
    const undone = new Set<string>();
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const l = JSON.parse(line) as JournalLine;
        if ('entry' in l) entries.push(l.entry);
        else for (const id of l.undone) undone.add(id);
      } catch {
        /* a torn last line after a crash */
      }
    }
    for (const e of entries) if (undone.has(e.id)) e.undone = true;
    return entries;
  }

  async changes(taskId: string): Promise<ChangeEntry[]> {
    return (await this.entries(taskId)).map(({ id, taskId: t, op, path: p, toPath, at, undone }) => ({
      id,
      taskId: t,
      op,
      path: p,
      ...(toPath ? { toPath } : {}),
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

  /** Journal a folder the task created, so undo removes it. */
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

  /** Write (create or overwrite) a file, keeping its previous content. */
  async writeFile(taskId: string, file: string, data: Buffer, op: 'write' | 'edit' = 'write'): Promise<JournalEntry> {
    return this.inParent(taskId, file, true, async (folder, name) => {
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
      await writeAtomicIn(folder, name, data, beforeMode);
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
      await this.append(taskId, { entry });
      return entry;
    });
  }

  async mkdir(taskId: string, dir: string): Promise<number> {
    return this.inParent(taskId, dir, true, async (folder, name) => {
      const st = await exists(`${folder}/${name}`);
      if (st) {
        if (st.isDirectory()) return 0;
        throw new ToolError(`${dir} exists and is not a folder.`);
      }
      await fsp.mkdir(`${folder}/${name}`);
      await this.recordMkdir(taskId, dir);
      return 1;
    });
  }

  async move(taskId: string, from: string, to: string): Promise<JournalEntry> {
    return this.inParent(taskId, from, false, (fromFolder, fromName) =>
      this.inParent(taskId, to, true, async (toFolder, toName) => {
        const source = `${fromFolder}/${fromName}`;
        const st = await exists(source);
        if (!st) throw new ToolError(`${from} does not exist.`);
        if (await exists(`${toFolder}/${toName}`))
          throw new ToolError(`${to} already exists; move refuses to overwrite. Delete it first or pick another name.`);
        const afterSha = st.isFile() ? sha256((await readAt(source, from)).data) : undefined;
        await moveAcross(source, `${toFolder}/${toName}`);
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
        await this.append(taskId, { entry });
        return entry;
      }),
    );
  }

  /**
   * Move a path into a fresh trash slot with a note of where it came from; returns its new place.
   * `here` names the path through its folder reached without following links (inParent).
   */
  private async moveToTrash(taskId: string, target: string, id: string, here: string): Promise<string> {
    const trashPath = await this.newTrashSlot(taskId, target, id);
    await moveAcross(here, trashPath);
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
  async trash(taskId: string, target: string): Promise<JournalEntry> {
    return this.inParent(taskId, target, false, async (folder, name) => {
      const here = `${folder}/${name}`;
      const st = await exists(here);
      if (!st) throw new ToolError(`${target} does not exist.`);
      const id = newId();
      const afterSha = st.isFile() ? sha256((await readAt(here, target)).data) : undefined;
      const trashPath = await this.moveToTrash(taskId, target, id, here);
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
      await this.append(taskId, { entry });
      return entry;
    });
  }

  /**
   * Journal changes something else already made (a shell command): new folders as mkdir, new files
   * as create, changed files as write (previous content kept as a blob), deleted files as trash (their
   * previous content put in a trash slot, so undo and the trash restore them like a deleted file).
   */
  async recordExternal(taskId: string, changes: ExternalChanges): Promise<JournalEntry[]> {
    const out: JournalEntry[] = [];
    const add = async (entry: JournalEntry) => {
      await this.append(taskId, { entry });
      out.push(entry);
    };
    for (const dir of changes.dirs)
      await add({ id: newId(), taskId, op: 'mkdir', path: dir, at: Date.now(), kind: 'dir' });
    for (const c of changes.created)
      await add({
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
      await add({
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
      await add({
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
    await placeContained(note.originalPath, check, async (destination) => {
      if (await exists(destination)) throw new ToolError(`${note.originalPath} exists again; move it away first.`);
      await moveAcross(source, destination);
    });
    await removeNoFollow(slot);
    return note.originalPath;
  }

  private async fileSha(file: string): Promise<string | undefined> {
    try {
      return sha256((await readNoFollow(file)).data);
    } catch {
      return undefined;
    }
  }

  /**
   * Undo a task: newest change first. A path whose current state is not what the task left is
   * left alone, as is every earlier change to it, and reported.
   */
  async undo(taskId: string): Promise<UndoResult> {
    const all = await this.entries(taskId);
    const result: UndoResult = { restored: [], skipped: [] };
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
      if (e.undone) continue;
      const paths = [e.path, ...(e.toPath ? [e.toPath] : [])];
      const already = paths.find((p) => blocked.has(p));
      if (already) {
        block(paths, blocked.get(already)!);
        continue;
      }
      try {
        const changed = await this.undoOne(taskId, e);
        if (changed) {
          block(paths, changed);
          continue;
        }
        done.push(e.id);
        for (const p of paths) if (!result.restored.includes(p)) result.restored.push(p);
      } catch (err) {
        block(paths, `could not be restored: ${(err as Error).message}`);
      }
    }
    if (done.length) await this.append(taskId, { undone: done, at: Date.now() });
    result.restored = result.restored.filter((p) => !blocked.has(p));
    return result;
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
        await placeContained(e.path, this.mayRestoreTo, (destination) =>
          writeAtomic(destination, before, e.beforeMode),
        );
        return undefined;
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
        await this.inParent(taskId, e.toPath!, false, (fromFolder, fromName) =>
          placeContained(e.path, this.mayRestoreTo, async (destination) => {
            if (await exists(destination)) throw new ToolError(`${e.path} exists again; left as it is`);
            const source = `${fromFolder}/${fromName}`;
            const now = await exists(source);
            if (!now || (e.kind === 'dir' ? !now.isDirectory() : !now.isFile()))
              throw new ToolError(`${e.toPath} changed since the task; left as it is`);
            await moveAcross(source, destination);
          }),
        );
        return undefined;
      }
      case 'trash': {
        if (await exists(e.path)) return `${e.path} exists again; left as it is`;
        if (!e.trashPath || !(await exists(e.trashPath))) return 'its copy is no longer in the trash';
        const trashPath = e.trashPath;
        await placeContained(e.path, this.mayRestoreTo, async (destination) => {
          if (await exists(destination)) throw new ToolError(`${e.path} exists again; left as it is`);
          await moveAcross(trashPath, destination);
        });
        const slot = await this.slotOf(e.trashPath);
        if (slot) await removeNoFollow(slot);
        return undefined;
      }
    }
  }
}
