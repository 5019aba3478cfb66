// When a server says its tools changed (tools/list_changed), the tools are listed again, but a
// server may say so as often as it likes: 30,000 notices made the daemon send 4,000 tools/list
// requests in 10 s. So at most one refresh runs and one more waits, refreshes are at least
// `intervalMs` apart, and more than `floodLimit` notices in `floodWindowMs` is a flood.
export interface RefreshGateOptions {
  run(): Promise<void>;
  /** The server sent too many notices: the gate is closed, and the connector should be failed. */
  onFlood(notices: number, windowMs: number): void;
  intervalMs?: number;
  floodLimit?: number;
  floodWindowMs?: number;
}

export class RefreshGate {
  private running: Promise<void> | undefined;
  private again = false;
  /** The connection lists its tools as it starts: that counts as the first refresh. */
  private last = Date.now();
  private windowStart = Date.now();
  private notices = 0;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private readonly intervalMs: number;
  private readonly floodLimit: number;
  private readonly floodWindowMs: number;

  constructor(private readonly opts: RefreshGateOptions) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.floodLimit = opts.floodLimit ?? 100;
    this.floodWindowMs = opts.floodWindowMs ?? 60_000;
  }

  /** A tools/list_changed notice arrived. */
  notice(): void {
    if (this.closed) return;
    const now = Date.now();
    if (now - this.windowStart > this.floodWindowMs) {
      this.windowStart = now;
      this.notices = 0;
    }
    if (++this.notices > this.floodLimit) {
      this.close();
      this.opts.onFlood(this.notices, this.floodWindowMs);
      return;
    }
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const wait = this.last + this.intervalMs - Date.now();
      if (wait > 0)
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, wait);
          this.timer.unref?.();
        });
      if (this.closed) return;
      this.last = Date.now();
      await this.opts.run();
    } while (this.again && !this.closed);
  }

  /** Resolves when no refresh runs or waits (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.wake?.();
  }
}
