// Which task runs when: tasks in different threads run in parallel up to a limit; further ones wait
// in order; one task at a time per thread (a follow-up waits behind the running task). A task
// waiting for a person gives its slot up and gets it back ahead of new work.
export interface Slot {
  taskId: string;
  threadId: string;
}

export class Scheduler {
  private queue: Slot[] = [];
  /** Thread → the task that owns it (running or waiting for a person). */
  private busyThreads = new Map<string, string>();
  /** Tasks holding a parallel slot. */
  private holding = new Set<string>();
  private reacquire: Array<{ taskId: string; resolve: () => void }> = [];
  private paused = false;

  constructor(
    private readonly limit: () => number,
    private readonly start: (slot: Slot) => void,
  ) {}

  enqueue(slot: Slot): void {
    this.queue.push(slot);
    this.pump();
  }

  /** Take a queued task out; false when it is not queued. */
  remove(taskId: string): boolean {
    const i = this.queue.findIndex((s) => s.taskId === taskId);
    if (i < 0) return false;
    this.queue.splice(i, 1);
    return true;
  }

  isQueued(taskId: string): boolean {
    return this.queue.some((s) => s.taskId === taskId);
  }
  queued(): Slot[] {
    return [...this.queue];
  }
  running(): number {
    return this.holding.size;
  }
  queuedCount(): number {
    return this.queue.length + this.reacquire.length;
  }

  /** The task ended: free its thread and slot. */
  finished(slot: Slot): void {
    if (this.busyThreads.get(slot.threadId) === slot.taskId) this.busyThreads.delete(slot.threadId);
    this.holding.delete(slot.taskId);
    const w = this.reacquire.findIndex((r) => r.taskId === slot.taskId);
    if (w >= 0) this.reacquire.splice(w, 1);
    this.pump();
  }

  /** The task waits for a person: give the slot to other work, keep the thread. */
  release(taskId: string): void {
    if (this.holding.delete(taskId)) this.pump();
  }

  /**
   * The task can go on: get a slot back (ahead of queued tasks). An aborted task stops waiting at
   * once (it only winds down, so it may briefly run over the limit).
   */
  acquire(taskId: string, signal?: AbortSignal): Promise<void> {
    if (this.holding.has(taskId)) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        taskId,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const i = this.reacquire.indexOf(entry);
        if (i >= 0) this.reacquire.splice(i, 1);
        resolve();
      };
      if (signal?.aborted) return resolve();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.reacquire.push(entry);
      this.pump();
    });
  }

  /** Stop starting queued work (daemon shutting down). */
  pause(): void {
    this.paused = true;
  }

  private pump(): void {
    while (this.holding.size < this.limit() && this.reacquire.length) {
      const r = this.reacquire.shift()!;
      this.holding.add(r.taskId);
      r.resolve();
    }
    if (this.paused) return;
    for (let i = 0; i < this.queue.length && this.holding.size < this.limit(); ) {
      const slot = this.queue[i];
      if (this.busyThreads.has(slot.threadId)) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.busyThreads.set(slot.threadId, slot.taskId);
      this.holding.add(slot.taskId);
      this.start(slot);
    }
  }
}
