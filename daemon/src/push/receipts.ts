// Proof of arrival. Each push to each device gets an id (128 random bits) that travels only inside
// the encrypted push; the service worker posts it back when it showed the notification (delivered)
// and when it was tapped (opened). Holding the id is the proof, so the worker needs no token.
import crypto from 'node:crypto';
import type { PushOutcome, PushReceipt } from '../../../shared/src/index.js';
import type { PushStore } from './store.js';

export interface SentPush {
  pushId: string;
  deviceId: string;
  kind: string;
  threadId?: string;
  /** The change it announces (approval id …); absent for pushes known only from the stored outcomes. */
  jobKey?: string;
  at: number;
}

/** A name for a push that proves nothing: devices group a push's steps by it (the id itself is the proof). */
export function pushRef(pushId: string): string {
  return crypto.createHash('sha256').update(`errand push ref\0${pushId}`).digest('base64url').slice(0, 22);
}

/**
 * An outcome as devices see it (events go to every paired device and stay in the journal): the push id
 * replaced by its ref, so no device can post a receipt for another device's push.
 */
export function publicOutcome(o: PushOutcome): PushOutcome {
  if (!o.pushId) return o;
  const { pushId, ...rest } = o;
  return { ...rest, ref: pushRef(pushId) };
}

type ReceiptState = PushReceipt['state'];
const KEEP_PENDING = 2000;

export class Receipts {
  private readonly sent = new Map<string, SentPush>();
  private readonly seen = new Set<string>();
  private readonly waiters = new Map<string, Array<() => void>>();
  /** Receipts being written, by push id and state: a copy arriving meanwhile waits for the same write. */
  private readonly recording = new Map<string, Promise<void>>();
  private readonly listeners: Array<(push: SentPush, state: ReceiptState) => void> = [];

  constructor(
    private readonly store: PushStore,
    /** Store the outcome durably, then announce it; rejects when it could not be stored. */
    private readonly record: (outcome: PushOutcome) => Promise<void>,
    private readonly deviceExists: (deviceId: string) => boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A new push to a device: its id, remembered before anything is sent (a receipt may beat the 201).
   * `again`: one recorded before a restart and sent again now, with its own id and time.
   */
  newPush(
    deviceId: string,
    kind: string,
    threadId: string | undefined,
    jobKey: string,
    again?: { pushId: string; at: number },
  ): string {
    const pushId = again?.pushId ?? crypto.randomBytes(16).toString('base64url');
    const at = again?.at ?? this.now();
    this.sent.set(pushId, { pushId, deviceId, kind, ...(threadId ? { threadId } : {}), jobKey, at });
    if (this.sent.size > KEEP_PENDING) this.sent.delete(this.sent.keys().next().value as string);
    return pushId;
  }

  private lookup(pushId: string): SentPush | undefined {
    const known = this.sent.get(pushId);
    if (known) return known;
    // Sent before a restart: its outcome was stored.
    const o = this.store.outcomes(undefined, Number.MAX_SAFE_INTEGER).find((x) => x.pushId === pushId && x.deviceId);
    return o?.deviceId
      ? { pushId, deviceId: o.deviceId, kind: o.kind, ...(o.threadId ? { threadId: o.threadId } : {}), at: o.at }
      : undefined;
  }

  private has(pushId: string, state: ReceiptState): boolean {
    return (
      this.seen.has(`${pushId}:${state}`) ||
      this.store.outcomes(undefined, Number.MAX_SAFE_INTEGER).some((o) => o.pushId === pushId && o.result === state)
    );
  }

  /**
   * Record a receipt: resolves true once it is durable (a repeat is recorded once), false when the id is
   * unknown (or its device was revoked). Rejects when it could not be stored: nothing is kept then, so
   * the service worker's retry records it.
   */
  async receive(r: PushReceipt): Promise<boolean> {
    const push = this.lookup(r.pushId);
    if (!push || !this.deviceExists(push.deviceId)) return false;
    const key = `${r.pushId}:${r.state}`;
    const writing = this.recording.get(key);
    if (writing) {
      await writing;
      return true;
    }
    if (this.has(r.pushId, r.state)) return true;
    const now = this.now();
    // A receipt that waited offline keeps its time, but never before the push or after now.
    const at = r.at === undefined ? now : Math.min(now, Math.max(push.at, r.at));
    const write = this.record({
      deviceId: push.deviceId,
      pushId: r.pushId,
      at,
      kind: push.kind,
      ...(push.threadId ? { threadId: push.threadId } : {}),
      result: r.state,
    });
    this.recording.set(key, write);
    try {
      await write;
    } finally {
      this.recording.delete(key);
    }
    this.seen.add(key);
    for (const l of this.listeners) l(push, r.state);
    const w = this.waiters.get(r.pushId);
    if (w) {
      this.waiters.delete(r.pushId);
      for (const resolve of w) resolve();
    }
    return true;
  }

  /** Whether this push was delivered (or opened) yet. */
  arrived(pushId: string): boolean {
    return this.has(pushId, 'delivered') || this.has(pushId, 'opened');
  }

  /** Resolves true when the push is delivered within `ms`, false otherwise. */
  waitDelivered(pushId: string, ms: number): Promise<boolean> {
    if (this.arrived(pushId)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const list = this.waiters.get(pushId)?.filter((f) => f !== done) ?? [];
        if (list.length) this.waiters.set(pushId, list);
        else this.waiters.delete(pushId);
        resolve(false);
      }, ms);
      timer.unref();
      this.waiters.set(pushId, [...(this.waiters.get(pushId) ?? []), done]);
    });
  }

  onReceipt(listener: (push: SentPush, state: ReceiptState) => void): void {
    this.listeners.push(listener);
  }

  /** Pushes sent for a change (job key), per device. */
  forJob(jobKey: string): SentPush[] {
    return [...this.sent.values()].filter((p) => p.jobKey === jobKey);
  }
}
