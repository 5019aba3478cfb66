// An injected clock for the schedule engine: a wall clock the test sets, and timers that run on a
// separate monotonic time, as Node's do. `advance` lets time pass with the computer awake (timers
// fire in order); `sleep` moves only the wall clock, as a suspended computer does, so the next
// timer fires late by the sleep.
import type { Clock } from '../../src/schedules/engine.js';

interface Timer {
  due: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  private mono = 0;
  private nextId = 1;
  private timers = new Map<number, Timer>();

  constructor(
    public wall: number,
    /** Awaited after each timer fires (the engine's queued work). */
    private readonly settle: () => Promise<void> = async () => undefined,
  ) {}

  now(): number {
    return this.wall;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { due: this.mono + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  pending(): number {
    return this.timers.size;
  }

  /** Let `ms` pass awake: every timer due in that span fires, in order, and its work settles. */
  async advance(ms: number, settle = this.settle): Promise<void> {
    const end = this.mono + ms;
    for (;;) {
      let first: [number, Timer] | undefined;
      for (const e of this.timers) if (!first || e[1].due < first[1].due) first = e;
      if (!first || first[1].due > end) break;
      this.timers.delete(first[0]);
      this.wall += first[1].due - this.mono;
      this.mono = first[1].due;
      first[1].fn();
      await settle();
    }
    this.wall += end - this.mono;
    this.mono = end;
  }

  /** The computer sleeps for `ms`: the wall clock moves, timers do not. */
  sleep(ms: number): void {
    this.wall += ms;
  }

  /** The wall clock is set forward or back by `ms` (by hand, or corrected by NTP); timers do not move. */
  jump(ms: number): void {
    this.wall += ms;
  }
}
