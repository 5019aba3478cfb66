// Where a task's spending moved on to a new day: a small fold of the journal, so the spend ledger
// (spend/ledger.ts) counts each part of a task's cost on the day it was spent, after a restart too.
// A mark says "from `day` on, this task's cost above `base` counts on `day`". A task gets one the
// first time it is seen able to spend on a day after the one it started on: at most one a day, so
// a task that never runs past midnight never gets one. A mark is its own record, appended before
// any later change of the task's cost, so the journal never holds the cost without its mark.
import type { Journal } from './journal.js';

export const SPEND_DAY_OP = 'spend.day';

/** Marks of tasks whose latest one is older than this are dropped at a snapshot (no cap looks that far back). */
const KEEP_DAYS = 62;

export interface DayMark {
  /** YYYY-MM-DD in the host's zone. */
  day: string;
  /** The task's cost (USD) already counted on earlier days. */
  base: number;
}

type MarkOp = DayMark & { task: string };

const isMark = (v: unknown): v is MarkOp => {
  const m = v as MarkOp;
  return !!m && typeof m.task === 'string' && typeof m.day === 'string' && typeof m.base === 'number';
};

export class SpendDays {
  private marks = new Map<string, DayMark[]>();

  constructor(
    private readonly journal: Journal,
    private readonly now: () => number = Date.now,
  ) {
    journal.register(SPEND_DAY_OP, {
      apply: (d) => {
        if (isMark(d)) this.keep(d);
      },
      snapshot: () => this.snapshot(),
      restore: (data) => {
        this.marks.clear();
        if (Array.isArray(data)) for (const d of data) if (isMark(d)) this.keep(d);
      },
    });
  }

  /** A task's marks, oldest first (none for most tasks). */
  of(taskId: string): readonly DayMark[] {
    return this.marks.get(taskId) ?? [];
  }

  /** Keep a mark and append it to the journal (its own record, queued now); resolves once durable. */
  mark(taskId: string, mark: DayMark): Promise<void> {
    const op: MarkOp = { task: taskId, day: mark.day, base: mark.base };
    this.keep(op);
    // Outside any transaction: one still open could be written after the task's next cost change.
    return this.journal.detached(() => this.journal.record({ t: SPEND_DAY_OP, d: op }));
  }

  private keep(op: MarkOp): void {
    const list = this.marks.get(op.task);
    const mark = { day: op.day, base: op.base };
    if (list) list.push(mark);
    else this.marks.set(op.task, [mark]);
  }

  private snapshot(): MarkOp[] {
    const d = new Date(this.now() - KEEP_DAYS * 86_400_000);
    const oldest = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    const out: MarkOp[] = [];
    for (const [task, list] of this.marks) {
      if (list[list.length - 1].day < oldest) {
        this.marks.delete(task);
        continue;
      }
      for (const m of list) out.push({ task, day: m.day, base: m.base });
    }
    return out;
  }
}
