// Model calls under way, and calls whose cost the ledger has not counted yet. A task's cost reaches
// the ledger only with the task's next write (its turn's checkpoint, or its end), so without these
// every running task could make one more call past a daily or monthly cap: 24 parallel tasks took
// a $0.50 cap to $3.90. Each call reserves what it may cost at most before it is sent; once it
// ends, what it really cost is kept until the ledger counts it. In memory only: a restart reads
// the costs the tasks recorded.

interface Call {
  /** The task's cost the ledger must reach before this call is counted there. */
  upToUsd: number;
  /** Reserved for a call still going (0 once it ended). */
  reservedUsd: number;
}

export class CallsUnderWay {
  private calls = new Map<string, Call>();
  private waiting: Array<() => void> = [];

  /** `counted`: a task's cost as the ledger counts it now. */
  constructor(private readonly counted: (taskId: string) => number) {}

  /** A call of `taskId` goes out: the task has cost `costUsd` so far, and the call may cost `estimateUsd`. */
  reserve(taskId: string, costUsd: number, estimateUsd: number): void {
    const earlier = this.calls.get(taskId);
    this.calls.set(taskId, {
      upToUsd: Math.max(earlier?.upToUsd ?? 0, costUsd),
      reservedUsd: Math.max(0, estimateUsd),
    });
  }

  /** The call ended; the task has cost `costUsdAfter` (the same as before when it was not answered). */
  settle(taskId: string, costUsdAfter: number): void {
    const call = this.calls.get(taskId);
    if (!call) return;
    call.upToUsd = Math.max(call.upToUsd, costUsdAfter);
    call.reservedUsd = 0;
    this.wake();
  }

  /** The task ended: whatever it cost is in its final record. */
  drop(taskId: string): void {
    if (this.calls.delete(taskId)) this.wake();
  }

  /**
   * `unrecordedUsd`: spent by calls that ended, not in the ledger yet (counts as spent);
   * `reservedUsd`: what the calls still going may cost (less what the ledger already saw of them).
   */
  totals(): { unrecordedUsd: number; reservedUsd: number } {
    let unrecordedUsd = 0;
    let reservedUsd = 0;
    for (const [taskId, call] of this.calls) {
      const counted = this.counted(taskId);
      if (call.reservedUsd === 0 && counted >= call.upToUsd) {
        this.calls.delete(taskId);
        continue;
      }
      unrecordedUsd += Math.max(0, call.upToUsd - counted);
      reservedUsd += Math.max(0, call.reservedUsd - Math.max(0, counted - call.upToUsd));
    }
    return { unrecordedUsd, reservedUsd };
  }

  /**
   * Settles when a call ends or a task with calls ends, when the caps change (recheck), or after
   * `atMostMs` (a stream that trickles for an hour must not hold the check that long): then a cap
   * check may come out otherwise.
   */
  whenOneEnds(atMostMs = 30_000): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, atMostMs);
      timer.unref();
      this.waiting.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The caps changed (raised, removed): every waiting check runs again now. */
  recheck(): void {
    this.wake();
  }

  private wake(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}
