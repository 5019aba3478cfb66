// Putting one change back: what undo does on disk. A restore lands only where the tools may write
// now, through its folder reached without following links (placeContained), past the restore guard,
// and moves content across file systems when it must (moveAcross). Apart from undo's bookkeeping
// (which changes, in which order, what is reported): this is the part that touches the user's files.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { exists, fileSha, filesIn, inParent, writeAtomic } from './journal-io.js';
import type { JournalEntry, TaskRecords } from './journal-records.js';
import type { TrashSlots } from './journal-trash.js';
import { moveAcross, removeNoFollow } from './move-across.js';
import { type PlaceCheck, placeContained } from './safe-place.js';
import { ToolError } from './util.js';

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

/**
 * Why a path could not be restored, as a client may read it: the file tools reach a folder through
 * its opened descriptor (/proc/self/fd/N/name), a name that means nothing outside this process and
 * is gone by now. Each such name becomes the real path it stood for (`paths`: the change's paths).
 */
export function restoreFailure(err: unknown, paths: string[]): string {
  const message = err instanceof Error ? err.message : String(err);
  const real = message.replace(/\/proc\/self\/fd\/\d+(?:\/([^'"\s]+))?/g, (_whole, name?: string) => {
    const known = name && paths.find((p) => path.basename(p) === name);
    if (known) return known;
    const folder = path.dirname(paths[0]);
    return name ? path.join(folder, name) : folder;
  });
  return `could not be restored: ${real.replace(/\.$/, '')}; fix that and undo again`;
}

export class ChangeReversal {
  constructor(
    private readonly records: TaskRecords,
    private readonly trash: TrashSlots,
    /** The roots check at the moment of a restore: undo writes only where tools may write now. */
    private readonly mayRestoreTo: PlaceCheck,
    private readonly guardRestore: RestoreGuard,
    private readonly beforeRestoreMove: BeforeRestoreMove,
  ) {}

  /**
   * Whether the paths are already as they were before the change: an undo a crash cut off reversed
   * it but never marked it. Counted as undone; otherwise the next undo found "changed since the
   * task", reported a restored file as left alone, and left the earlier changes to it undone too.
   */
  async alreadyReversed(e: JournalEntry): Promise<boolean> {
    switch (e.op) {
      case 'create':
      case 'write':
      case 'edit':
        return e.beforeBlob ? (await fileSha(e.path)) === e.beforeBlob : !(await exists(e.path));
      case 'mkdir':
        return !(await exists(e.path));
      case 'move': {
        const st = await exists(e.path);
        if (!st || (await exists(e.toPath!))) return false;
        return e.kind === 'dir' ? st.isDirectory() : (await fileSha(e.path)) === e.afterSha;
      }
      case 'trash': {
        if (!(await exists(e.path)) || (e.trashPath && (await exists(e.trashPath)))) return false;
        // The crash may have come between putting it back and removing its emptied trash slot.
        const slot = e.trashPath ? await this.trash.slotOf(e.trashPath).catch(() => undefined) : undefined;
        if (slot) await removeNoFollow(slot);
        return true;
      }
    }
  }

  /** Reverse one change; returns a reason when the path changed since (and nothing was done). */
  async undoOne(taskId: string, e: JournalEntry): Promise<string | undefined> {
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
        if ((await fileSha(e.path)) !== e.afterSha) return changedSince;
        if (!e.beforeBlob) {
          // The task created it: move it to the trash rather than deleting it.
          await inParent(e.path, {}, (folder, name) =>
            this.trash.moveIn(taskId, e.path, `undo-${e.id}`, `${folder}/${name}`),
          );
          return undefined;
        }
        const before = await this.records.readBlob(taskId, e.beforeBlob);
        return this.guardRestore({ target: e.path, files: async () => [{ real: e.path, bytes: before.length }] }, () =>
          placeContained(e.path, this.mayRestoreTo, (destination) => writeAtomic(destination, before, e.beforeMode)),
        );
      }
      case 'mkdir': {
        const st = await exists(e.path);
        if (!st) return undefined;
        if (!st.isDirectory() || (await fsp.readdir(e.path)).length)
          return 'folder is not empty (or changed) since the task; left as it is';
        await inParent(e.path, {}, (folder, name) => fsp.rmdir(`${folder}/${name}`));
        return undefined;
      }
      case 'move': {
        if (await exists(e.path)) return `${e.path} exists again; left as it is`;
        const st = await exists(e.toPath!);
        if (!st) return changedSince;
        // What the task moved is a file or a folder, never a link put there since.
        if (e.kind === 'dir' ? !st.isDirectory() : !st.isFile()) return changedSince;
        if (e.kind === 'file' && (await fileSha(e.toPath!)) !== e.afterSha) return changedSince;
        // The source is reached through its opened folder too: a folder on its path swapped for a
        // link after the checks above makes the walk fail rather than move something from outside.
        const moved = { target: e.path, from: e.toPath, files: () => filesIn(e.toPath!, e.path) };
        return this.guardRestore(moved, () =>
          inParent(e.toPath!, {}, (fromFolder, fromName) =>
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
        const slot = await this.trash.slotOf(e.trashPath);
        if (slot) await removeNoFollow(slot);
        return undefined;
      }
    }
  }
}
