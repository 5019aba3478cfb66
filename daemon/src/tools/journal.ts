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
//
// This file is the facade: the file tools' changes and the task's turns. The parts live beside it:
// the change file's format (journal-records.ts), intents (journal-intents.ts), a shell command's
// changes as entries (journal-external.ts), undo (journal-undo.ts) and what it does on disk
// (journal-reverse.ts), the trash (journal-trash.ts), telling shell runs (journal-touches.ts), and
// the file access under all of them (journal-io.ts).
import fsp from 'node:fs/promises';
import type { ChangeEntry } from '../../../shared/src/index.js';
import { externalEntries } from './journal-external.js';
import { Intents, NothingDone } from './journal-intents.js';
import { exists, inParent, readAt } from './journal-io.js';
import { type JournalEntry, newChangeId, TaskRecords } from './journal-records.js';
import { type BeforeRestoreMove, ChangeReversal, type RestoreGuard } from './journal-reverse.js';
import { ToolTouches, withParents } from './journal-touches.js';
import { TrashSlots } from './journal-trash.js';
import { TaskUndo, type UndoResult } from './journal-undo.js';
import { moveAcross, removeNoFollow } from './move-across.js';
import { writeAtomicIn } from './no-follow.js';
import { type PlaceCheck, placeContained } from './safe-place.js';
import { type ExternalChanges, recoverRun, type ToolNote, type ToolPaths, type ToolWatch } from './shell-journal.js';
import type { KeptStore } from './shell-kept.js';
import { sha256, ToolError } from './util.js';

export { changesUpdated, MAX_CHANGES_EVENT_BYTES } from './changes-event.js';
export { readNoFollow, streamNoFollow, writeAtomic } from './journal-io.js';
export { isTaskId, type JournalEntry } from './journal-records.js';
export type { BeforeRestoreMove, Restore, RestoreGuard } from './journal-reverse.js';
export type { UndoResult } from './journal-undo.js';
export type { ExternalChanges, ToolWatch };

export interface JournalOptions {
  guardRestore?: RestoreGuard;
  beforeRestoreMove?: BeforeRestoreMove;
  /** A path (or a message naming paths) as clients see it: e.g. the memory folder as /memories. */
  shown?: (text: string) => string;
}

export class ChangeJournal {
  /** Each task's change file and blobs. */
  private readonly records: TaskRecords;
  private readonly trashSlots: TrashSlots;
  /** The shell runs in flight, told what the tools change. */
  private readonly touches: ToolTouches;
  private readonly intents: Intents;
  private readonly undos: TaskUndo;
  /** Where shell runs keep their snapshots while they run. */
  readonly runsDir: string;
  /** The contents shell runs keep, shared by the runs (shell-kept.ts). */
  readonly kept: KeptStore;
  private readonly recovering: Promise<void>;
  /** Per task, the end of its queue of undos and changes (see oneAtATime). */
  private readonly turns = new Map<string, Promise<void>>();

  private readonly beforeRestoreMove: BeforeRestoreMove;
  private readonly shown: (text: string) => string;

  constructor(
    dir: string,
    trashDir: string,
    /** The roots check at the moment of a restore: undo writes only where tools may write now. */
    mayRestoreTo: PlaceCheck = async () => undefined,
    opts: JournalOptions = {},
  ) {
    const guardRestore: RestoreGuard = opts.guardRestore ?? (async (_r, restore) => void (await restore()));
    this.beforeRestoreMove = opts.beforeRestoreMove ?? (() => undefined);
    this.shown = opts.shown ?? ((text) => text);
    this.records = new TaskRecords(dir);
    this.trashSlots = new TrashSlots(trashDir);
    this.touches = new ToolTouches(dir);
    this.runsDir = this.touches.runsDir;
    this.kept = this.touches.kept;
    this.intents = new Intents(this.records, this.trashSlots);
    const reversal = new ChangeReversal(
      this.records,
      this.trashSlots,
      mayRestoreTo,
      guardRestore,
      this.beforeRestoreMove,
    );
    this.undos = new TaskUndo(this.records, this.intents, this.touches, reversal, this.shown);
    // Shell runs a crash cut off: listed now, before any new one starts; recovered once the rest
    // of start-up (which kills the commands a previous daemon left running) has run.
    const left = this.touches.leftByACrash();
    this.recovering = left.length
      ? new Promise<void>((r) => setImmediate(r)).then(() =>
          this.touches.recover(left, (file, log) => recoverRun(this, file, log)),
        )
      : Promise.resolve();
  }

  /** Resolves once the shell runs a crash cut off are recorded (changes and new runs wait for it). */
  ready(): Promise<void> {
    return this.recovering;
  }

  /** The file a shell run keeps its snapshot in while it runs. */
  runFile(runId: string): string {
    return this.touches.runFile(runId);
  }

  /** Begin telling a shell run what the tools change (see ToolTouches.watch). */
  watch(): ToolWatch {
    return this.touches.watch();
  }

  /** Run `fn`, a change of the tools to `note`'s paths, with the shell runs in flight told first. */
  private async noting<T>(note: ToolNote, fn: () => Promise<T>): Promise<T> {
    await this.recovering;
    return this.touches.noting(note, fn);
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

  async readBlob(taskId: string, name: string): Promise<Buffer> {
    return this.records.readBlob(taskId, name);
  }

  /** Whether a shell run's changes are recorded (a recovery after a crash must not record them twice). */
  async hasRun(taskId: string, runId: string): Promise<boolean> {
    return (await this.records.lines(taskId)).some((l) => 'external' in l && l.run === runId);
  }

  /**
   * Every change of a task, oldest first, with undone marks applied. An intent counts once marked
   * made; one a crash (or a failed mark) left open is settled here by what is on disk, once.
   */
  async entries(taskId: string): Promise<JournalEntry[]> {
    await this.recovering;
    return this.intents.entries(taskId);
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
    await this.records.append(taskId, {
      entry: { id: newChangeId(), taskId, op: 'mkdir', path: dir, at: Date.now(), kind: 'dir' },
    });
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
    return inParent(target, create ? { create, onCreate: (d) => this.recordMkdir(taskId, d) } : {}, fn);
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
          beforeBlob = await this.records.saveBlob(taskId, before.data);
          beforeMode = before.stat.mode & 0o7777;
        }
        const entry: JournalEntry = {
          id: newChangeId(),
          taskId,
          op: st ? op : 'create',
          path: file,
          at: Date.now(),
          kind: 'file',
          beforeBlob,
          beforeMode,
          afterSha: sha256(data),
        };
        return this.intents.change(taskId, entry, () => writeAtomicIn(folder, name, data, beforeMode));
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
        const entry: JournalEntry = { id: newChangeId(), taskId, op: 'mkdir', path: dir, at: Date.now(), kind: 'dir' };
        await this.intents.change(taskId, entry, () => fsp.mkdir(`${folder}/${name}`));
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
            id: newChangeId(),
            taskId,
            op: 'move',
            path: from,
            toPath: to,
            at: Date.now(),
            kind: st.isDirectory() ? 'dir' : 'file',
            afterSha,
          };
          return this.intents.change(taskId, entry, async () => {
            // Checked again at the last moment: a rename replaces whatever is there.
            if (await exists(`${toFolder}/${toName}`))
              throw new NothingDone(`${to} appeared meanwhile; move refuses to overwrite. Nothing was moved.`);
            await moveAcross(source, `${toFolder}/${toName}`);
          });
        }),
      ),
    );
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
        const id = newChangeId();
        const afterSha = st.isFile() ? sha256((await readAt(here, target)).data) : undefined;
        // The slot (with its note) first, so the entry can name where the item goes.
        const trashPath = await this.trashSlots.newSlot(taskId, target, id);
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
        return this.intents.change(taskId, entry, () => moveAcross(here, trashPath));
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
    // Another shell run in flight in the same folder does not take these for its own when it ends later.
    await this.touches.tell(
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
    const out = await externalEntries(taskId, changes, this.records, this.trashSlots);
    // One line, one fdatasync: all of the run's changes or (a torn line) none of them.
    if (out.length) await this.records.append(taskId, { external: out, ...(run ? { run } : {}) });
    return out;
  }

  /** What is in the trash, newest first. */
  async trashList(): Promise<Array<{ id: string; originalPath: string; taskId: string; at: number }>> {
    return this.trashSlots.list();
  }

  /** Put a trashed item back where it was (`check` confirms that place is still allowed). */
  async restoreFromTrash(id: string, check: (originalPath: string) => Promise<void>): Promise<string> {
    const slot = this.trashSlots.slotNamed(id);
    await this.recovering;
    const { originalPath, source } = await this.trashSlots.itemIn(slot);
    await this.noting({ exact: withParents(originalPath), trees: [originalPath] }, () =>
      placeContained(originalPath, check, async (destination) => {
        if (await exists(destination)) throw new ToolError(`${originalPath} exists again; move it away first.`);
        await this.beforeRestoreMove(source, originalPath);
        await moveAcross(source, destination);
      }),
    );
    await removeNoFollow(slot);
    return originalPath;
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
    return this.turn(taskId, () => this.undos.undo(taskId, delivered));
  }
}
