// What tasks cost per day and per month, in the host's time zone: a fold of the tasks' own costs,
// each increase counted on the day (and month) it is spent. A task that runs past midnight, or is
// resumed days later, counts what it spends from then on the new day, not on the day it started.
// Rebuilt at start from the threads (each task's cost) and the day marks the journal keeps
// (store/spend-days.ts: where a task's spending moved on to a new day); kept current from
// task.updated events. The marks are the ledger's only state: the costs stay the threads'.
import type { Task, TaskState } from '../../../shared/src/index.js';
import type { DayMark } from '../store/spend-days.js';

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

export type SpendTask = Pick<Task, 'id' | 'costUsd' | 'createdAt' | 'startedAt'> & { state?: TaskState };

/** States in which a task can spend again (a resumed interrupted task shows queued or running first). */
const CAN_SPEND = new Set<TaskState>(['queued', 'running', 'waiting']);
/** The task may still spend (a task seen without a state is taken to). */
export const canSpend = (task: Pick<SpendTask, 'state'>) => task.state === undefined || CAN_SPEND.has(task.state);
/** States of a task spending now or about to (its spending moves to the new day when the day turns). */
const UNDER_WAY = new Set<TaskState>(['running', 'waiting']);

interface Part {
  day: string;
  month: string;
  usd: number;
}

/**
 * A task's cost as counted: `day`/`month`/`usd` is the part where more spending goes (the latest
 * day it spent on), `earlier` the parts on days before (only for a task that ran past midnight),
 * `cost` all of it.
 */
interface Counted {
  day: string;
  month: string;
  usd: number;
  cost: number;
  earlier: Part[] | undefined;
}

export class SpendLedger {
  private tasks = new Map<string, Counted>();
  private days = new Map<string, number>();
  private months = new Map<string, number>();
  /** Tasks running or waiting: the ones whose spending moves to the new day when it turns. */
  private underWay = new Set<string>();
  /** The day `turn` last moved the tasks under way to. */
  private turnedTo = '';

  /**
   * `timeZone`: where days turn; by default the host's own zone. `onMark`: a task's spending moved
   * on to a new day (the caller keeps the mark durably, so a restart counts the same).
   */
  constructor(
    private readonly timeZone: () => string | undefined = () => undefined,
    private readonly onMark: (taskId: string, mark: DayMark) => void = () => undefined,
  ) {}

  /** A task as stored (at start): its cost split at its day marks, the rest on the day it started. */
  see(task: SpendTask, marks: readonly DayMark[] = []): void {
    this.forget(task.id);
    this.track(task);
    const start = keys(task.startedAt ?? task.createdAt, this.timeZone());
    const bounds = [{ day: start.day, base: 0 }, ...marks];
    const parts: Part[] = [];
    for (let i = 0; i < bounds.length; i++) {
      const upTo = i + 1 < bounds.length ? Math.min(task.costUsd, bounds[i + 1].base) : task.costUsd;
      const day = this.intern(bounds[i].day);
      parts.push({ day, month: this.intern(day.slice(0, 7)), usd: Math.max(0, upTo - bounds[i].base) });
    }
    const last = parts.pop()!;
    const earlier = parts.filter((p) => p.usd > 0);
    // A literal, not a spread: a spread gave each of thousands of entries a hidden class of its own.
    const counted: Counted = {
      day: last.day,
      month: last.month,
      usd: last.usd,
      cost: task.costUsd,
      earlier: earlier.length ? earlier : undefined,
    };
    this.tasks.set(task.id, counted);
    for (const p of [...earlier, last]) this.add(p.day, p.month, p.usd);
  }

  /** A task as it is now (a task.updated event at `now`): what it spent since last seen counts today. */
  spent(task: SpendTask, now: number): void {
    this.track(task);
    let counted = this.tasks.get(task.id);
    if (!counted) {
      const start = keys(task.startedAt ?? task.createdAt, this.timeZone());
      counted = { day: this.intern(start.day), month: this.intern(start.month), usd: 0, cost: 0, earlier: undefined };
      this.tasks.set(task.id, counted);
    }
    const today = keys(now, this.timeZone());
    const more = task.costUsd - counted.cost;
    if (counted.day !== today.day && (more > 0 || (task.state !== undefined && CAN_SPEND.has(task.state))))
      this.moveOn(task.id, counted, today);
    if (more > 0) {
      counted.usd += more;
      this.add(counted.day, counted.month, more);
    } else if (more < 0) this.takeBack(counted, -more);
    counted.cost = task.costUsd;
  }

  /**
   * The day may have turned (checked before each model call and for the status): tasks under way
   * count what they spend from now on the new day. Marking them before their next call is what
   * makes the mark durable before the call's cost is.
   */
  turn(now: number): void {
    const today = keys(now, this.timeZone());
    if (today.day === this.turnedTo) return;
    this.turnedTo = today.day;
    for (const id of this.underWay) {
      const counted = this.tasks.get(id);
      if (counted && counted.day !== today.day) this.moveOn(id, counted, today);
    }
  }

  /** The day and month `now` is in (what the caps are counted per). */
  period(now: number): { day: string; month: string } {
    return keys(now, this.timeZone());
  }

  /** A task's cost as counted (0 for a task not seen yet). */
  costOf(taskId: string): number {
    return this.tasks.get(taskId)?.cost ?? 0;
  }

  today(now: number): number {
    return Math.max(0, this.days.get(keys(now, this.timeZone()).day) ?? 0);
  }

  month(now: number): number {
    return Math.max(0, this.months.get(keys(now, this.timeZone()).month) ?? 0);
  }

  /** From now on the task's spending counts on `today`; the mark keeps that across a restart. */
  private moveOn(id: string, counted: Counted, today: { day: string; month: string }): void {
    if (counted.usd > 0) (counted.earlier ??= []).push({ day: counted.day, month: counted.month, usd: counted.usd });
    counted.day = this.intern(today.day);
    counted.month = this.intern(today.month);
    counted.usd = 0;
    this.onMark(id, { day: counted.day, base: counted.cost });
  }

  /** A lower cost than counted (not expected: costs only grow): taken back from the latest days first. */
  private takeBack(counted: Counted, usd: number): void {
    const fromLatest = Math.min(usd, counted.usd);
    counted.usd -= fromLatest;
    this.add(counted.day, counted.month, -fromLatest);
    let rest = usd - fromLatest;
    for (const p of [...(counted.earlier ?? [])].reverse()) {
      if (rest <= 0) break;
      const take = Math.min(rest, p.usd);
      p.usd -= take;
      this.add(p.day, p.month, -take);
      rest -= take;
    }
  }

  private forget(id: string): void {
    const prev = this.tasks.get(id);
    if (!prev) return;
    for (const p of [...(prev.earlier ?? []), prev]) this.add(p.day, p.month, -p.usd);
    this.tasks.delete(id);
  }

  private track(task: SpendTask): void {
    if (task.state !== undefined && UNDER_WAY.has(task.state)) this.underWay.add(task.id);
    else this.underWay.delete(task.id);
  }

  private add(day: string, month: string, usd: number): void {
    if (usd === 0) return;
    this.days.set(day, (this.days.get(day) ?? 0) + usd);
    this.months.set(month, (this.months.get(month) ?? 0) + usd);
  }

  /** One string per day and month, shared by its tasks. */
  private names = new Map<string, string>();
  private intern(key: string): string {
    const known = this.names.get(key);
    if (known !== undefined) return known;
    this.names.set(key, key);
    return key;
  }
}
