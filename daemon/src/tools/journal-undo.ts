// Undo a task: its changes newest first, each put back (journal-reverse.ts) unless its path changed
// since, and the marks that make an undo safe to cut off and to send again: `undoing` before it acts,
// `undone` after, `reported` once its result reached whoever asked. Apart from the change journal,
// which only runs it in the task's turn.
import crypto from 'node:crypto';
import path from 'node:path';
import type { Intents } from './journal-intents.js';
import type { JournalEntry, TaskRecords } from './journal-records.js';
import { type ChangeReversal, restoreFailure } from './journal-reverse.js';
import { type ToolTouches, withParents } from './journal-touches.js';

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

export interface UndoResult {
  restored: string[];
  /** Paths left alone, with the reason (changed since the task, or an error). */
  skipped: Array<{ path: string; reason: string }>;
}

export class TaskUndo {
  /** Undos of this process whose results are reported or on their way: no other undo's to report. */
  private readonly ownUndos = new Set<string>();

  constructor(
    private readonly records: TaskRecords,
    private readonly intents: Intents,
    private readonly touches: ToolTouches,
    private readonly reversal: ChangeReversal,
    /** A path (or a message naming paths) as clients see it. */
    private readonly shown: (text: string) => string,
  ) {}

  /**
   * Undo a task, in its turn (ChangeJournal.undo says what `delivered` means): newest change first,
   * each path whose state is not what the task left left alone, with every earlier change to it.
   */
  async undo(taskId: string, delivered: Promise<boolean> | undefined): Promise<UndoResult> {
    const all = await this.intents.entries(taskId);
    const { interrupted, unreported } = await this.undoMarks(taskId);
    const attempt = `und_${crypto.randomBytes(8).toString('base64url')}`;
    const by = delivered ? { by: attempt } : {};
    const pending = all.filter((e) => !e.undone).map((e) => e.id);
    if (pending.length) await this.records.append(taskId, { undoing: pending, at: Date.now(), ...by });
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
        const changed = await this.touches.noting({ exact: paths.flatMap(withParents), trees: paths }, async () =>
          interrupted.has(e.id) && (await this.reversal.alreadyReversed(e))
            ? undefined
            : this.reversal.undoOne(taskId, e),
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
    if (done.length) await this.records.append(taskId, { undone: done, at: Date.now(), ...by });
    result.restored = result.restored.filter((p) => !blocked.has(p)).map(this.shown);
    result.skipped = result.skipped.map((s) => ({ path: this.shown(s.path), reason: this.shown(s.reason) }));
    const told = [...adopted, ...(delivered && done.length ? [attempt] : [])];
    if (!delivered) {
      if (told.length) await this.records.append(taskId, { reported: told, at: Date.now() });
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
    else await this.records.append(taskId, { reported: attempts, at: Date.now() }).catch(() => undefined);
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
    for (const l of await this.records.lines(taskId)) {
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
}
