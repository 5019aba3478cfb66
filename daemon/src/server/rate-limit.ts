// Counts authentication failures per address and in total, loopback included (a local web page
// or a proxy arrives from 127.0.0.1 too). When either budget is spent, attempts are refused until
// the window moves on.
export class FailureLimiter {
  private perAddress = new Map<string, number[]>();
  private global: number[] = [];

  constructor(
    private readonly perAddressLimit = 10,
    private readonly globalLimit = 50,
    private readonly windowMs = 60_000,
  ) {}

  private prune(list: number[], now: number): number[] {
    const cutoff = now - this.windowMs;
    let i = 0;
    while (i < list.length && list[i] < cutoff) i++;
    return i ? list.slice(i) : list;
  }

  /** True when this address may try again now. */
  allowed(address: string): boolean {
    const now = Date.now();
    this.global = this.prune(this.global, now);
    const mine = this.prune(this.perAddress.get(address) ?? [], now);
    if (mine.length) this.perAddress.set(address, mine);
    else this.perAddress.delete(address);
    return mine.length < this.perAddressLimit && this.global.length < this.globalLimit;
  }

  fail(address: string): void {
    const now = Date.now();
    this.global.push(now);
    const mine = this.perAddress.get(address) ?? [];
    mine.push(now);
    this.perAddress.set(address, mine);
  }
}
