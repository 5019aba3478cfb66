// What tasks cost per day and per month, in the host's time zone: a fold of the tasks' own costs
// (each task's cost counts on the day it started), rebuilt at start from the threads and kept
// current from task.updated events. No state of its own, so nothing can disagree with the threads.
import type { Task } from '../../../shared/src/index.js';

// One formatter per time zone: making one costs far more than formatting (thousands of tasks at start).
const formatters = new Map<string, Intl.DateTimeFormat>();
const two = (n: number) => String(n).padStart(2, '0');

/**
 * The day and month of `at` in `timeZone`, or without one in the host's own zone: Date's local time,
 * the same zone, which needs none of ICU's locale data (any Intl date format reads ~8 MB of it into
 * memory, which an idle daemon then keeps).
 */
function keys(at: number, timeZone: string | undefined): { day: string; month: string } {
  if (timeZone === undefined) {
    const d = new Date(at);
    const month = `${d.getFullYear()}-${two(d.getMonth() + 1)}`;
    return { day: `${month}-${two(d.getDate())}`, month };
  }
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  const day = f.format(new Date(at));
  return { day, month: day.slice(0, 7) };
}

export class SpendLedger {
  private tasks = new Map<string, { day: string; month: string; usd: number }>();
  private days = new Map<string, number>();
  private months = new Map<string, number>();

  /** `timeZone`: where days turn; by default the host's own zone. */
  constructor(private readonly timeZone: () => string | undefined = () => undefined) {}

  /** A task as it is now: its cost replaces what it counted before. */
  see(task: Pick<Task, 'id' | 'costUsd' | 'createdAt' | 'startedAt'>): void {
    const prev = this.tasks.get(task.id);
    if (prev) {
      this.days.set(prev.day, (this.days.get(prev.day) ?? 0) - prev.usd);
      this.months.set(prev.month, (this.months.get(prev.month) ?? 0) - prev.usd);
    }
    const k = keys(task.startedAt ?? task.createdAt, this.timeZone());
    const usd = task.costUsd;
    // A literal, not a spread: a spread gave each of thousands of entries a hidden class of its own.
    this.tasks.set(task.id, { day: this.intern(k.day), month: this.intern(k.month), usd });
    this.days.set(k.day, (this.days.get(k.day) ?? 0) + usd);
    this.months.set(k.month, (this.months.get(k.month) ?? 0) + usd);
  }

  /** One string per day and month, shared by its tasks. */
  private names = new Map<string, string>();
  private intern(key: string): string {
    const known = this.names.get(key);
    if (known !== undefined) return known;
    this.names.set(key, key);
    return key;
  }

  today(now: number): number {
    return Math.max(0, this.days.get(keys(now, this.timeZone()).day) ?? 0);
  }

  month(now: number): number {
    return Math.max(0, this.months.get(keys(now, this.timeZone()).month) ?? 0);
  }
}
