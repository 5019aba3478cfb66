// Model calls under way, and calls whose cost the ledger has not counted yet. A task's cost reaches
// the ledger only with the task's next write (its turn's checkpoint, or its end), so without these
// every running task could make one more call past a daily or monthly cap: 24 parallel tasks took
// a $0.50 cap to $3.90. Each call reserves what it may cost at most before it is sent (and never
// less than the task's dearest call so far: a prompt can be far larger than the request's text),
// raised once the API reports its prompt; once it ends, what it really cost is kept until the
// ledger counts it. In memory only: a restart reads the costs the tasks recorded.

interface Call {
  /** The task's cost the ledger must reach before this call is counted there. */
  upToUsd: number;
  /** Reserved for a call still going (0 once it ended). */
  reservedUsd: number;
  /** The task's cost when the call went out. */
  fromUsd: number;
  going: boolean;
}

export class CallsUnderWay {
  private calls = new Map<string, Call>();
  private waiting: Array<() => void> = [];
  /** What each task's dearest call cost: the next one may well cost as much. */
  private dearest = new Map<string, number>();

  /** `counted`: a task's cost as the ledger counts it now. */
  constructor(private readonly counted: (taskId: string) => number) {}

  /**
   * A call of `taskId` goes out: the task has cost `costUsd` so far, and the call may cost
   * `estimateUsd`, or as much as the task's dearest call. Returns how to raise what it holds
   * (counted from `costUsd`) while it is going.
   */
  reserve(taskId: string, costUsd: number, estimateUsd: number): (reservedUsd: number) => void {
    const earlier = this.calls.get(taskId);
    const call: Call = {
      upToUsd: Math.max(earlier?.upToUsd ?? 0, costUsd),
      reservedUsd: Math.max(0, estimateUsd, this.dearest.get(taskId) ?? 0),
      fromUsd: costUsd,
      going: true,
    };
    this.calls.set(taskId, call);
    return (reservedUsd) => {
      if (call.going) call.reservedUsd = Math.max(call.reservedUsd, reservedUsd);
    };
  }

  /** The call ended; the task has cost `costUsdAfter` (the same as before when it was not answered). */
  settle(taskId: string, costUsdAfter: number): void {
    const call = this.calls.get(taskId);
    if (!call) return;
    if (call.going && costUsdAfter - call.fromUsd > (this.dearest.get(taskId) ?? 0))
      this.dearest.set(taskId, costUsdAfter - call.fromUsd);
    call.going = false;
    call.upToUsd = Math.max(call.upToUsd, costUsdAfter);
    call.reservedUsd = 0;
    this.wake();
  }

  /** The task ended: whatever it cost is in its final record. */
  drop(taskId: string): void {
    this.dearest.delete(taskId);
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
