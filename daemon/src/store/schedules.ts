// Schedules: a fold of the journal, kept in memory. A change replaces the schedule object (never
// changed in place) and records it whole (a schedule is small: its history is bounded); inside a
// command the op joins the command's record with its event and reply.
import type { Occurrence, Schedule } from '../../../shared/src/index.js';
import type { Journal } from './journal.js';

export const SCHEDULE_OP = 'schedule';
/** Occurrences kept per schedule (older finished ones are dropped from the history, oldest first). */
export const HISTORY_LIMIT = 60;
/** The hard bound, open entries included (a run cut off by a crash every time and never resumed). */
export const HISTORY_HARD_LIMIT = 2 * HISTORY_LIMIT;

/** An entry still waiting for something: a run going or resumable, or a question the user has not answered. */
export const isOpenOccurrence = (o: Occurrence): boolean =>
  o.outcome === 'running' || o.outcome === 'interrupted' || o.ask === 'open';

/**
 * The history bounded to HISTORY_LIMIT by dropping the oldest finished entries. An open entry is
 * never dropped for a finished one: its run's outcome and cost are recorded there when it ends, and
 * the overlap rule and the user's Run/Skip need it. Only past HISTORY_HARD_LIMIT do the oldest
 * interrupted entries go (never a running one or an open question).
 */
export function trimHistory(history: Occurrence[]): Occurrence[] {
  if (history.length <= HISTORY_LIMIT) return history;
  let finished = history.length - HISTORY_LIMIT;
  let kept = history.filter((o) => isOpenOccurrence(o) || finished-- <= 0);
  let interrupted = kept.length - HISTORY_HARD_LIMIT;
  if (interrupted > 0) kept = kept.filter((o) => o.outcome !== 'interrupted' || o.ask === 'open' || interrupted-- <= 0);
  return kept;
}

type ScheduleOp = { set: Schedule } | { del: string };

export class ScheduleStore {
  private map = new Map<string, Schedule>();

  constructor(private readonly journal: Journal) {
    journal.register(SCHEDULE_OP, {
      apply: (d) => {
        const op = d as ScheduleOp;
        if ('del' in op) this.map.delete(op.del);
        else if (op.set) this.keep(op.set);
      },
      snapshot: () => [...this.map.values()],
      restore: (data) => {
        this.map.clear();
        if (Array.isArray(data)) for (const s of data) this.keep(s as Schedule);
      },
    });
  }

  /** Records are our own writes, checksummed by the journal: not re-validated (1,000 schedules load in ~1 ms). */
  private keep(raw: unknown): void {
    const s = raw as Schedule;
    if (s && typeof s.id === 'string' && Array.isArray(s.history)) this.map.set(s.id, s);
  }

  get(id: string): Schedule | undefined {
    return this.map.get(id);
  }

  list(): Schedule[] {
    return [...this.map.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  get size(): number {
    return this.map.size;
  }

  /** Replace a schedule in memory and record it; durable when the promise resolves. */
  put(s: Schedule): Promise<void> {
    const next = { ...s, history: trimHistory(s.history) };
    this.undoable(s.id);
    this.map.set(s.id, next);
    return this.journal.record({ t: SCHEDULE_OP, d: { set: next } }, `schedule:${s.id}`);
  }

  remove(id: string): Promise<void> {
    this.undoable(id);
    this.map.delete(id);
    return this.journal.record({ t: SCHEDULE_OP, d: { del: id } }, `schedule:${id}`);
  }

  /** Inside a command whose record fails (disk full), put the schedule back as it was. */
  private undoable(id: string): void {
    const tx = this.journal.current();
    if (!tx?.undoable) return;
    const key = `schedule:${id}`;
    if (tx.undo.has(key)) return;
    const before = this.map.get(id);
    tx.undo.set(key, before);
    tx.failHooks.push(() => {
      if (before) this.map.set(id, before);
      else this.map.delete(id);
    });
  }
}
