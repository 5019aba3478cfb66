// Errand's trash: where a delete (a file tool's, a shell command's, an undo of a create) puts what it
// removes. A slot per item, with a note of where it came from; apart from the change journal, which
// decides when something goes in or comes back, so the slots' layout is in one place.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { exists } from './journal-io.js';
import { moveAcross, removeNoFollow } from './move-across.js';
import { ToolError } from './util.js';

/**
 * A trash slot holds its note (errand-trash.json) and, in `item/`, what was deleted: apart, so a
 * deleted file that is itself named errand-trash.json can neither overwrite nor forge the note.
 * Slots written before this layout hold the item beside the note.
 */
const TRASH_NOTE = 'errand-trash.json';
const TRASH_ITEM = 'item';

export interface TrashItem {
  id: string;
  originalPath: string;
  taskId: string;
  at: number;
}

async function slotItem(slot: string, originalPath: string): Promise<string> {
  const inItem = path.join(slot, TRASH_ITEM, path.basename(originalPath));
  if (await exists(inItem)) return inItem;
  return path.join(slot, path.basename(originalPath));
}

export class TrashSlots {
  constructor(private readonly dir: string) {}

  /**
   * Move a path into a fresh trash slot with a note of where it came from; returns its new place.
   * `here` names the path through its folder reached without following links (inParent).
   */
  async moveIn(taskId: string, target: string, id: string, here: string): Promise<string> {
    const trashPath = await this.newSlot(taskId, target, id);
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
  async newSlot(taskId: string, target: string, id: string): Promise<string> {
    const slot = path.join(this.dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${id}`);
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
  async slotOf(trashPath: string): Promise<string | undefined> {
    const parent = path.dirname(trashPath);
    const slot = path.basename(parent) === TRASH_ITEM ? path.dirname(parent) : parent;
    if (path.dirname(slot) !== this.dir || !path.basename(slot) || path.basename(slot).startsWith('.'))
      return undefined;
    return (await exists(path.join(slot, TRASH_NOTE))) ? slot : undefined;
  }

  /** What is in the trash, newest first. */
  async list(): Promise<TrashItem[]> {
    const slots = await fsp.readdir(this.dir).catch(() => [] as string[]);
    const out: TrashItem[] = [];
    for (const id of slots) {
      try {
        const note = JSON.parse(await fsp.readFile(path.join(this.dir, id, TRASH_NOTE), 'utf8')) as {
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

  /** The slot an id a client sent names (one plain name inside the trash), or a ToolError. */
  slotNamed(id: string): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(id) || id.startsWith('.')) throw new ToolError('No such item in the trash.');
    return path.join(this.dir, id);
  }

  /** Where a slot's item came from and where it is now, or a ToolError saying why it cannot go back. */
  async itemIn(slot: string): Promise<{ originalPath: string; source: string }> {
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
    return { originalPath: note.originalPath, source };
  }
}
