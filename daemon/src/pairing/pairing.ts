// Pairing: the CLI mints a single-use code (192 random bits, a few minutes, one live at a time);
// a phone claims it with a device name; the desktop approves; the phone gets its device token.
// Each code has a mint id, carried by every event about it, so a pairing session (`errand pair`)
// answers only claims on the code it showed.
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { DeviceRecord, DeviceStore } from '../store/devices.js';

export const PAIR_CODE_TTL_MS = 5 * 60_000;
const CLAIM_WAIT_MS = 3 * 60_000;

export interface Claim {
  id: string;
  /** The mint whose code was claimed. */
  mintId: string;
  name: string;
  address: string | undefined;
  at: number;
}
export type ClaimResult =
  | { ok: true; device: DeviceRecord; token: string }
  | { ok: false; reason: 'code_invalid' | 'denied' | 'timeout' | 'cancelled' };

export interface LiveCode {
  code: string;
  expiresAt: number;
  mintId: string;
}
interface PendingClaim extends Claim {
  decide: (approve: boolean) => void;
}

export class Pairing {
  private live: LiveCode | undefined;
  private pending = new Map<string, PendingClaim>();
  /**
   * Every event carries the `mintId` of the code it is about:
   * 'claim' (Claim): a phone claimed the code; 'paired' / 'declined': the claim was decided;
   * 'unanswered' ({ id, mintId, reason: 'timeout' | 'cancelled' }): nobody decided in time, or the
   * phone gave up; 'replaced' ({ mintId }): a newer mint replaced a code nobody had claimed yet.
   */
  readonly events = new EventEmitter();

  constructor(
    private readonly devices: DeviceStore,
    private readonly ttlMs = PAIR_CODE_TTL_MS,
  ) {}

  mint(): LiveCode {
    const replaced = this.current();
    this.live = {
      code: crypto.randomBytes(24).toString('base64url'),
      expiresAt: Date.now() + this.ttlMs,
      mintId: crypto.randomBytes(8).toString('hex'),
    };
    // One code is live at a time: the session showing the older one must stop offering it.
    if (replaced) this.events.emit('replaced', { mintId: replaced.mintId });
    return { ...this.live };
  }

  /**
   * The session that showed this mint's code is gone (cancelled, expired): the code stops working
   * at once, so a phone that opens it is told to run `errand pair` rather than wait for an approval
   * nobody can give; claims already made on it are declined.
   */
  withdraw(mintId: string): void {
    if (this.live?.mintId === mintId) this.live = undefined;
    for (const c of [...this.pending.values()]) if (c.mintId === mintId) c.decide(false);
  }

  /** The live code, if it has not expired or been used. */
  current(): LiveCode | undefined {
    if (this.live && this.live.expiresAt > Date.now()) return { ...this.live };
    this.live = undefined;
    return undefined;
  }

  /** True when `code` is the live code (compared in constant time); does not use it up. */
  isLive(code: string): boolean {
    const live = this.current();
    if (!live) return false;
    const a = Buffer.from(live.code);
    const b = Buffer.from(code);
    return a.length === b.length && crypto.timingSafeEqual(a, b);
  }

  /** Uses the code up if it is the live one; returns its mint id. */
  private takeCode(code: string): string | undefined {
    const live = this.live;
    if (!live || !this.isLive(code)) return undefined;
    this.live = undefined; // single use, even if the claim is later denied
    return live.mintId;
  }

  /** A phone claims the code; resolves once the desktop decides (or the wait times out). */
  async claim(code: string, name: string, address: string | undefined, signal?: AbortSignal): Promise<ClaimResult> {
    const mintId = this.takeCode(code);
    if (!mintId) return { ok: false, reason: 'code_invalid' };
    const id = crypto.randomBytes(8).toString('hex');
    const approved = await new Promise<boolean | 'timeout' | 'cancelled'>((resolve) => {
      const timer = setTimeout(() => done('timeout'), CLAIM_WAIT_MS);
      const onAbort = () => done('cancelled');
      const done = (v: boolean | 'timeout' | 'cancelled') => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
        resolve(v);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const claim: PendingClaim = { id, mintId, name, address, at: Date.now(), decide: done };
      this.pending.set(id, claim);
      this.events.emit('claim', { id, mintId, name, address, at: claim.at } satisfies Claim);
    });
    if (approved === true) {
      const { device, token } = await this.devices.add(name, address);
      this.events.emit('paired', { id: device.id, mintId, name: device.name, address });
      return { ok: true, device, token };
    }
    if (approved === false) {
      this.events.emit('declined', { id, mintId });
      return { ok: false, reason: 'denied' };
    }
    this.events.emit('unanswered', { id, mintId, reason: approved });
    return { ok: false, reason: approved };
  }

  pendingClaims(): Claim[] {
    return [...this.pending.values()].map(({ decide: _d, ...c }) => c);
  }

  decide(claimId: string, approve: boolean): boolean {
    const c = this.pending.get(claimId);
    if (!c) return false;
    c.decide(approve);
    return true;
  }
}
