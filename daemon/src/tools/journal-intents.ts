// Changes made the intent way: each is recorded (durably) before it is made, so a kill -9 at any point
// leaves either no change or a change its entry names. An intent counts once it is marked made (or,
// after a crash, once what is on disk shows it was); one not made after all is dropped. Apart from
// the journal's file tools and undo, which make changes through change() and read them through entries().
import path from 'node:path';
import { exists, fileSha } from './journal-io.js';
import type { JournalEntry, TaskRecords } from './journal-records.js';
import type { TrashSlots } from './journal-trash.js';
import { removeNoFollow } from './move-across.js';
import { ToolError } from './util.js';

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

/** A change's act refused before it changed anything: its intent is settled as not made. */
export class NothingDone extends ToolError {}

export class Intents {
  /** Intents being made now, by this process: not changes yet, and not to be settled from disk. */
  private readonly making = new Set<string>();
  /** Tasks whose intents a crash left open were settled since this process started. */
  private readonly settledTasks = new Set<string>();

  constructor(
    private readonly records: TaskRecords,
    private readonly trash: TrashSlots,
  ) {}

  /**
   * Every change of a task, oldest first, with undone marks applied. An intent counts once marked
   * made; one a crash (or a failed mark) left open is settled here by what is on disk, once.
   */
  async entries(taskId: string): Promise<JournalEntry[]> {
    const list: Array<{ entry: JournalEntry; intent: boolean }> = [];
    const settled = new Map<string, boolean>();
    const undone = new Set<string>();
    for (const l of await this.records.lines(taskId)) {
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
        if (landed.length) await this.records.append(taskId, { landed });
        if (missed.length) await this.records.append(taskId, { missed });
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
   * Make a change the intent way: `entry` is appended durably first, then `act` makes the change,
   * then the entry is marked made (or, when `act` failed, by what is on disk). Called within the
   * task's turn, by the method that made the checks the change relies on.
   */
  async change(taskId: string, entry: JournalEntry, act: () => Promise<void>): Promise<JournalEntry> {
    // Intents a crash left open are settled before a new change to the task can blur them.
    if (this.records.has(taskId) && !this.settledTasks.has(taskId)) await this.entries(taskId);
    this.making.add(entry.id);
    let made: boolean | undefined; // undefined: the intent is not recorded, nothing was done
    try {
      await this.records.append(taskId, { entry, intent: true });
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
        await this.records
          .append(taskId, made ? { landed: [entry.id] } : { missed: [entry.id] }, false)
          .catch(() => undefined);
      else await this.dropEmptySlot(entry); // the intent could not be recorded: nothing was done
      this.making.delete(entry.id);
    }
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
            const sha = await fileSha(e.path);
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
    const slot = await this.trash.slotOf(e.trashPath).catch(() => undefined);
    if (slot) await removeNoFollow(slot).catch(() => undefined);
  }
}
