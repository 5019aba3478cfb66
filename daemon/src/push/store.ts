// push.json: each device's push subscription, the recent outcomes (bounded), the keys of changes
// already pushed (bounded), so a change is pushed at most once even across a restart, the pushes
// not finished yet (recorded before the first attempt, bounded: one that gives way gets an outcome),
// so a crash or a stop does not lose them, and
// the last event looked at: a start looks again at the events after it (a crash can come between an
// event's commit and the write that records its push).
import path from 'node:path';
import type { Low } from 'lowdb';
import { z } from 'zod';
import { Id, PushId, PushOutcome } from '../../../shared/src/index.js';
import { openDoc, zodValidator } from '../store/doc.js';
import { PUSH_KINDS, PUSH_URGENCIES } from './payload.js';

const Subscription = z.object({
  deviceId: Id,
  endpoint: z.string().max(2048),
  keys: z.object({ p256dh: z.string().max(256), auth: z.string().max(64) }),
  createdAt: z.number(),
  /** The VAPID public key the browser subscribed with: after the keys change, this subscription cannot work. */
  vapidKey: z.string().max(128).optional(),
});
export type StoredSubscription = z.infer<typeof Subscription>;

/** A push to one device recorded before its first attempt, until its outcome is final. */
const PendingPush = z.object({
  pushId: PushId,
  deviceId: Id,
  /** The subscription it was first sent to (a retry or a resend goes to the device's subscription then). */
  endpoint: z.string().max(2048),
  /** When it was first recorded. */
  at: z.number(),
  job: z.object({
    key: z.string().max(512),
    threadId: Id.optional(),
    urgency: z.enum(PUSH_URGENCIES),
    ttlSeconds: z.number().int().positive(),
    news: z
      .object({
        ending: z
          .object({ taskId: z.string().max(128), state: z.string().max(32), endedAt: z.number().optional() })
          .optional(),
        schedule: z.object({ id: z.string().max(128), occurrenceId: z.string().max(128), ask: z.boolean() }).optional(),
      })
      .optional(),
    payload: z.object({
      type: z.enum(PUSH_KINDS),
      title: z.string().max(1024),
      body: z.string().max(1024),
      threadId: Id.optional(),
      url: z.string().max(2048),
      tag: z.string().max(256),
      schedule: z.object({ id: z.string().max(128), occurrenceId: z.string().max(128) }).optional(),
    }),
  }),
});
export type PendingPush = z.infer<typeof PendingPush>;

const PushDoc = z.object({
  schema: z.literal(1),
  subscriptions: z.array(Subscription),
  outcomes: z.array(PushOutcome),
  pushedKeys: z.array(z.string()),
  pending: z.array(PendingPush).default([]),
  /** The VAPID public key in use when this file was last opened (subscriptions older than vapidKey carry it). */
  vapidKey: z.string().max(128).optional(),
  /**
   * The sequence number of the last event looked at: the push of every event up to it (if it asked for
   * one) is in this file, as a key with its pending pushes. Absent in files from before it was kept.
   */
  handledSeq: z.number().int().nonnegative().optional(),
});
type PushDoc = z.infer<typeof PushDoc>;

export const KEEP_OUTCOMES = 500;
/** At most this many pushes wait in push.json (10 phones × 50 endings during a long throttle). */
export const KEEP_PENDING = 500;
/** A pending push older than this would not be sent any more (index.ts RESEND_WITHIN_MS): first to go. */
const PENDING_USEFUL_MS = 3600_000;
const KEEP_KEYS = 2000;

export class PushStore {
  /** Keys in pushedKeys, and keys claimed since the start whose pushes are not recorded yet. */
  private claimed: Set<string>;
  /** Keys in pushedKeys. */
  private recorded: Set<string>;

  private constructor(private readonly db: Low<PushDoc>) {
    this.recorded = new Set(db.data.pushedKeys);
    this.claimed = new Set(db.data.pushedKeys);
  }

  static async open(storeDir: string): Promise<PushStore> {
    const db = await openDoc<PushDoc>({
      file: path.join(storeDir, 'push.json'),
      version: 1,
      validate: zodValidator(PushDoc),
      initial: () => ({ schema: 1, subscriptions: [], outcomes: [], pushedKeys: [], pending: [] }),
    });
    return new PushStore(db);
  }

  /**
   * Record the key in use now. Subscriptions saved before keys were recorded were made with the key of the
   * last start (or, on a first start with this field, the current one). Returns the subscriptions that were
   * made with another key: they need the device to subscribe again.
   */
  async adoptVapidKey(publicKey: string): Promise<StoredSubscription[]> {
    const previous = this.db.data.vapidKey ?? publicKey;
    let changed = this.db.data.vapidKey !== publicKey;
    for (const s of this.db.data.subscriptions) {
      if (s.vapidKey === undefined) {
        s.vapidKey = previous;
        changed = true;
      }
    }
    this.db.data.vapidKey = publicKey;
    if (changed) await this.db.write();
    return this.db.data.subscriptions.filter((s) => s.vapidKey !== publicKey);
  }

  subscriptions(): StoredSubscription[] {
    return this.db.data.subscriptions;
  }
  get(deviceId: string): StoredSubscription | undefined {
    return this.db.data.subscriptions.find((s) => s.deviceId === deviceId);
  }

  /** One subscription per device; an endpoint belongs to one device (a browser that re-paired moves it). */
  async set(sub: StoredSubscription): Promise<void> {
    this.db.data.subscriptions = [
      ...this.db.data.subscriptions.filter((s) => s.deviceId !== sub.deviceId && s.endpoint !== sub.endpoint),
      sub,
    ];
    await this.db.write();
  }

  /** Remove a device's subscription; with `endpoint`, only if it is still that one (not a newer one). */
  async remove(deviceId: string, endpoint?: string): Promise<boolean> {
    const before = this.db.data.subscriptions.length;
    this.db.data.subscriptions = this.db.data.subscriptions.filter(
      (s) => !(s.deviceId === deviceId && (endpoint === undefined || s.endpoint === endpoint)),
    );
    if (this.db.data.subscriptions.length === before) return false;
    await this.db.write();
    return true;
  }

  /**
   * Take a change for pushing; false when it already was taken. Synchronous, so two events racing cannot
   * both win. In memory only: the key goes into push.json with the change's pending pushes (addPending).
   */
  claim(key: string): boolean {
    if (this.claimed.has(key)) return false;
    this.claimed.add(key);
    return true;
  }

  /** Whether a change's push is recorded here (sent, pending, or not needed). */
  isRecorded(key: string): boolean {
    return this.recorded.has(key);
  }

  private rememberKey(key: string): void {
    if (this.recorded.has(key)) return;
    this.recorded.add(key);
    const list = this.db.data.pushedKeys;
    list.push(key);
    if (list.length > KEEP_KEYS) {
      for (const old of list.splice(0, list.length - KEEP_KEYS)) {
        this.recorded.delete(old);
        this.claimed.delete(old);
      }
    }
  }

  /** The last event looked at (see PushDoc.handledSeq); undefined in a file from before it was kept. */
  handledSeq(): number | undefined {
    return this.db.data.handledSeq;
  }

  /**
   * Every event up to `seq` had its push recorded (in memory). It goes to disk with the next write, so
   * call it only once those pushes are in memory too: push.json never says more was handled than it holds.
   */
  markHandled(seq: number): void {
    this.db.data.handledSeq = seq;
  }

  /**
   * Add an outcome and write it durably. With `strict` (a receipt, which the phone sends again unless it
   * is told it is stored), a failed write takes it out again, so the retry records it anew. With
   * `settle`, the outcome is its push's last: the push is no longer pending (in the same write).
   */
  async addOutcome(outcome: PushOutcome, opts: { strict?: boolean; settle?: boolean } = {}): Promise<void> {
    const { strict = false, settle = false } = opts;
    this.keepOutcomes([outcome]);
    const taken = settle && outcome.pushId ? this.takePending(outcome.pushId) : [];
    try {
      await this.db.write();
    } catch (err) {
      if (strict) {
        // Nothing of it kept: the push waits as it did, and the receipt sent again settles it.
        const i = this.db.data.outcomes.lastIndexOf(outcome);
        if (i >= 0) this.db.data.outcomes.splice(i, 1);
        if (taken.length > 0) this.db.data.pending = [...this.db.data.pending, ...taken].sort((x, y) => x.at - y.at);
      }
      throw err;
    }
  }

  private keepOutcomes(outcomes: PushOutcome[]): void {
    const list = this.db.data.outcomes;
    list.push(...outcomes);
    if (list.length > KEEP_OUTCOMES) list.splice(0, list.length - KEEP_OUTCOMES);
  }

  /** Pushes recorded before their first attempt whose outcome is not final yet, oldest first. */
  pending(): readonly PendingPush[] {
    return this.db.data.pending;
  }

  /**
   * Record a change's pushes about to be sent, with its key and the devices it is not sent to
   * (`suppressed`: they show its thread), durably before any is sent. All go into memory at once
   * (before this awaits), so any write of push.json holds all or none: a crash cannot leave a
   * "suppressed" on disk without the key, which would send that push at the next start after all.
   * With nothing to record (nobody to tell) nothing is written now: the key goes with the next write.
   * Returns the pushes that gave way to keep the list bounded (trimPending), as their recorded outcomes.
   */
  async addPending(key: string, list: PendingPush[], suppressed: PushOutcome[] = []): Promise<PushOutcome[]> {
    this.rememberKey(key);
    if (list.length === 0 && suppressed.length === 0) return [];
    this.db.data.pending.push(...list);
    const dropped = this.trimPending(Date.now());
    this.keepOutcomes([...suppressed, ...dropped]);
    await this.db.write();
    return dropped;
  }

  /**
   * Over KEEP_PENDING, pushes give way, each with a `failed` outcome in the same write (never silently):
   * first those too old to be sent any more, then those a newer push to the same device replaces anyway
   * (same notification tag: the phone would show only the newer), oldest first; only then the oldest.
   * So a burst of endings keeps each device's newest push for each thread before any whole task is lost.
   */
  private trimPending(now: number): PushOutcome[] {
    const all = this.db.data.pending;
    let excess = all.length - KEEP_PENDING;
    if (excess <= 0) return [];
    const newest = new Map<string, PendingPush>();
    for (const p of all) newest.set(`${p.deviceId}\n${p.job.payload.tag}`, p);
    const drop = new Map<PendingPush, string>();
    const take = (p: PendingPush, why: string) => {
      if (excess > 0 && !drop.has(p)) {
        drop.set(p, why);
        excess -= 1;
      }
    };
    for (const p of all) if (now - p.at > PENDING_USEFUL_MS) take(p, 'not sent: it waited too long to go out');
    for (const p of all)
      if (newest.get(`${p.deviceId}\n${p.job.payload.tag}`) !== p)
        take(p, 'not sent: too many pushes waiting; a newer one about the same thread replaces it');
    for (const p of all) take(p, 'not sent: too many pushes waiting (the push service is holding them back)');
    this.db.data.pending = all.filter((p) => !drop.has(p));
    return [...drop].map(([p, detail]) => ({
      deviceId: p.deviceId,
      pushId: p.pushId,
      at: now,
      kind: p.job.payload.type,
      ...(p.job.threadId ? { threadId: p.job.threadId } : {}),
      result: 'failed' as const,
      detail,
    }));
  }

  /** A pending push that will not be sent after all, with no outcome of its own (its device was revoked, or its receipt settled it). */
  async dropPending(pushId: string): Promise<void> {
    if (this.takePending(pushId).length > 0) await this.db.write();
  }

  private takePending(pushId: string): PendingPush[] {
    const taken = this.db.data.pending.filter((p) => p.pushId === pushId);
    if (taken.length > 0) this.db.data.pending = this.db.data.pending.filter((p) => p.pushId !== pushId);
    return taken;
  }

  /** Recent outcomes, oldest first; for one device or all. */
  outcomes(deviceId?: string, limit = 50): PushOutcome[] {
    const all = deviceId ? this.db.data.outcomes.filter((o) => o.deviceId === deviceId) : this.db.data.outcomes;
    return all.slice(-limit);
  }

  flush(): Promise<void> {
    return this.db.write();
  }
}
