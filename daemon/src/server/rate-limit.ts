// Counts authentication failures per address and in total, loopback included (a local web page
// or a proxy arrives from 127.0.0.1 too). When either budget is spent, attempts are refused until
// the window moves on. Bounded whatever the flood: a list keeps only as many failures as its
// budget (whether the budget is spent depends on no older one), and addresses whose failures are
// all past the window are dropped, the oldest first when too many are still counted.

/** Addresses counted at once; past it, those with the oldest failures are forgotten first. */
const MAX_ADDRESSES = 4096;

export class FailureLimiter {
  /** In order of their latest failure (a failure moves its address to the end). */
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
    if (this.global.length > this.globalLimit) this.global.shift();
    const mine = this.perAddress.get(address) ?? [];
    mine.push(now);
    if (mine.length > this.perAddressLimit) mine.shift();
    this.perAddress.delete(address);
    this.perAddress.set(address, mine);
    if (this.perAddress.size > MAX_ADDRESSES) this.forgetOld(now);
  }

  /** Addresses whose failures are all past the window go; if still too many, the oldest do. */
  private forgetOld(now: number): void {
    const cutoff = now - this.windowMs;
    for (const [address, list] of this.perAddress) {
      if (list[list.length - 1] >= cutoff) break; // in order: the rest failed later
      this.perAddress.delete(address);
    }
    for (const address of this.perAddress.keys()) {
      if (this.perAddress.size <= MAX_ADDRESSES) break;
      this.perAddress.delete(address);
    }
  }

  /** How many addresses and failures are counted now (for tests of the bounds). */
  size(): { addresses: number; failures: number } {
    let failures = this.global.length;
    for (const list of this.perAddress.values()) failures += list.length;
    return { addresses: this.perAddress.size, failures };
  }
}
