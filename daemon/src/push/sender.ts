// Sends one push job to one device and accounts for it: every attempt ends in a recorded outcome
// (accepted, retrying, failed with status, removed). 404/410 drop the subscription; 429 waits as long as the
// push service asks (Retry-After); server errors and network failures retry with backoff; other
// client errors and redirects are final (the same request would fail the same way). Retries wait in
// memory; the push stays pending in push.json until its outcome is final, so after a stop or a crash
// the next start sends it again (index.ts). A retry goes only while its news still stands (deps.stale),
// the device has not confirmed it yet (a receipt), to the device's subscription as it is then (renewed
// meanwhile: the new one), and with what is left of its time to live.
import type webpushModule from 'web-push';

/** web-push is loaded on the first push, not at start-up (it costs memory and start time). */
let webpushLoaded: Promise<typeof webpushModule> | undefined;
const loadWebpush = () => (webpushLoaded ??= import('web-push').then((m) => m.default));

import type { PushOutcome } from '../../../shared/src/index.js';
import type { Logger } from '../util/log.js';
import { checkEndpoint } from './endpoint.js';
import type { PushJob } from './payload.js';
import type { PushStore, StoredSubscription } from './store.js';
import type { PushResponse, PushTransport } from './transport.js';
import type { VapidKeys } from './vapid.js';

export interface RetryPolicy {
  /** Attempts in all for server errors and network failures. */
  attempts: number;
  /** First backoff; doubled (×4) each time, with ±20% jitter. */
  baseDelayMs: number;
  /** How many 429 answers are honoured before giving up. */
  rateLimitRetries: number;
  /** A Retry-After longer than this gives up instead of waiting (the news would be stale). */
  maxRetryAfterMs: number;
  /** Used when a 429 carries no usable Retry-After. */
  defaultRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 1000,
  rateLimitRetries: 5,
  maxRetryAfterMs: 3600_000,
  defaultRetryAfterMs: 60_000,
};

export interface SenderDeps {
  store: PushStore;
  transport: PushTransport;
  keys: VapidKeys;
  subject: () => string;
  log: Logger;
  /** Record and announce an outcome (push.outcome event); `final`: no attempt for this push follows. */
  report: (outcome: PushOutcome, final: boolean) => void;
  /** Whether the device confirmed this push (a `delivered` or `opened` receipt): sending it again would buzz twice. */
  arrived?: (pushId: string) => boolean;
  /** Whether the device is still paired: a revoked one's retry is dropped with no outcome (nobody to tell). */
  paired?: (deviceId: string) => boolean;
  /** Take a push out of pending with no outcome of its own (its receipt or its device's revocation settled it). */
  drop?: (pushId: string) => void;
  /**
   * Before a retry: why the push is no longer news (its approval decided, its thread deleted, too old),
   * as the "not sent: …" detail of its final outcome; undefined while it still stands.
   */
  stale?: (job: PushJob, firstAt: number) => string | undefined;
  retry?: Partial<RetryPolicy>;
  now?: () => number;
}

/** Parse Retry-After: delta-seconds or an HTTP date. */
export function retryAfterMs(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number.parseInt(v, 10) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const AT_NEXT_START = 'Errand is stopping: it is sent again when Errand starts';
export const TURNED_OFF = 'not sent: notifications on this device were turned off since';

interface Attempt {
  job: PushJob;
  /** Sent inside the encrypted push as `receipt`; the service worker's receipt names it. */
  pushId?: string;
  deviceId: string;
  failures: number;
  rateLimited: number;
  /** When the push was first recorded: its time to live counts from then, whatever the retries. */
  firstAt: number;
}

export class PushSender {
  private readonly policy: RetryPolicy;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Retries waiting, by push id (cancel). */
  private readonly waiting = new Map<string, NodeJS.Timeout>();
  private stopped = false;
  private readonly now: () => number;
  /**
   * A push service that answered 429 asked for quiet, not just for that one push: until then no
   * push goes to it (by origin), each waiting its turn instead.
   */
  private readonly quietUntil = new Map<string, number>();

  constructor(private readonly deps: SenderDeps) {
    this.policy = { ...DEFAULT_RETRY, ...deps.retry };
    this.now = deps.now ?? Date.now;
  }

  /**
   * Send to the device's current subscription. Resolves with the first attempt's outcome; retries continue
   * in the background. `firstAt`: when the push was recorded (a resent one: earlier than now).
   */
  async send(deviceId: string, job: PushJob, pushId?: string, firstAt = this.now()): Promise<PushOutcome | undefined> {
    const sub = this.deps.store.get(deviceId);
    if (!sub) return undefined;
    return this.attempt(sub, { job, pushId, deviceId, failures: 0, rateLimited: 0, firstAt });
  }

  /** A push that gave way (its outcome is recorded elsewhere): its waiting retry is not made. */
  cancel(pushId: string): void {
    const timer = this.waiting.get(pushId);
    if (!timer) return;
    clearTimeout(timer);
    this.timers.delete(timer);
    this.waiting.delete(pushId);
  }

  /** Cancel pending retries. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.waiting.clear();
  }

  pendingRetries(): number {
    return this.timers.size;
  }

  private outcome(
    a: Attempt,
    result: PushOutcome['result'],
    detail?: string,
    status?: number,
    final = true,
  ): PushOutcome {
    const o: PushOutcome = {
      deviceId: a.deviceId,
      ...(a.pushId ? { pushId: a.pushId } : {}),
      at: this.now(),
      kind: a.job.payload.type,
      result,
      ...(a.job.threadId ? { threadId: a.job.threadId } : {}),
      ...(detail ? { detail } : {}),
      ...(status !== undefined ? { status } : {}),
    };
    this.deps.report(o, final);
    return o;
  }

  private later(ms: number, a: Attempt): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (a.pushId) this.waiting.delete(a.pushId);
      if (this.stopped) return;
      // The phone may have shown it already (the push service took it but answered with an error, or too
      // late): its receipt settled it, and a second send would buzz twice.
      if (a.pushId && this.deps.arrived?.(a.pushId)) {
        this.deps.drop?.(a.pushId);
        this.deps.log.info('push not sent again: the device confirmed it meanwhile', { device: a.deviceId });
        return;
      }
      // The device may have renewed its subscription meanwhile (the app does when the browser's changes):
      // the retry goes to the new one, with the same receipt id. Turned off: not sent, and said so.
      const sub = this.deps.store.get(a.deviceId);
      if (!sub) {
        if (this.deps.paired && !this.deps.paired(a.deviceId)) {
          if (a.pushId) this.deps.drop?.(a.pushId);
        } else this.outcome(a, 'failed', TURNED_OFF);
        return;
      }
      // A retry can come long after the change (Retry-After up to an hour, five times): by then the
      // approval may be decided, the thread deleted. Stale news is recorded as not sent, not sent.
      const gone = this.deps.stale?.(a.job, a.firstAt);
      if (gone) {
        this.outcome(a, 'failed', gone);
        return;
      }
      void this.attempt(sub, a).catch((err) =>
        this.deps.log.error('push retry failed', { error: (err as Error).message }),
      );
    }, ms);
    timer.unref();
    this.timers.add(timer);
    if (a.pushId) this.waiting.set(a.pushId, timer);
  }

  private backoff(failures: number): number {
    const base = this.policy.baseDelayMs * 4 ** (failures - 1);
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  private async attempt(sub: StoredSubscription, a: Attempt): Promise<PushOutcome> {
    // The push service may hold it only for what is left of its time to live, not a fresh one per retry.
    const ttl = a.job.ttlSeconds - Math.floor((this.now() - a.firstAt) / 1000);
    if (ttl < 1) return this.outcome(a, 'failed', 'not sent: its time to live ran out before it could go out');
    const check = checkEndpoint(sub.endpoint);
    if (!check.ok) {
      // Stored before a rule changed, or edited by hand: never send there.
      await this.deps.store.remove(sub.deviceId, sub.endpoint);
      return this.outcome(a, 'removed', check.reason);
    }
    if (sub.vapidKey !== undefined && sub.vapidKey !== this.deps.keys.publicKey) {
      // Made with keys that were replaced: the push service would refuse it (403). Not worth a request.
      return this.outcome(
        a,
        'failed',
        'Errand has new push keys: open Errand on this device once to renew notifications.',
      );
    }
    const origin = originOf(sub.endpoint);
    const quiet = (this.quietUntil.get(origin) ?? 0) - this.now();
    if (quiet > 0) return this.waitAndSend(a, quiet, 'the push service asked to wait', 'sending');
    const webpush = await loadWebpush();
    let details: ReturnType<typeof webpush.generateRequestDetails>;
    try {
      details = webpush.generateRequestDetails(
        { endpoint: sub.endpoint, keys: sub.keys },
        JSON.stringify(a.pushId ? { ...a.job.payload, receipt: a.pushId } : a.job.payload),
        {
          vapidDetails: {
            subject: this.deps.subject(),
            publicKey: this.deps.keys.publicKey,
            privateKey: this.deps.keys.privateKey,
          },
          TTL: ttl,
          urgency: a.job.urgency,
          contentEncoding: 'aes128gcm',
        },
      );
    } catch (err) {
      // Bad keys or subject: sending again would fail the same way.
      return this.outcome(a, 'failed', `could not build the push: ${(err as Error).message}`.slice(0, 200));
    }
    let res: PushResponse;
    try {
      res = await this.deps.transport({
        endpoint: details.endpoint,
        method: 'POST',
        headers: details.headers,
        body: details.body,
      });
    } catch (err) {
      return this.retryOrFail(
        a,
        undefined,
        `could not reach the push service: ${(err as Error).message}`.slice(0, 200),
      );
    }
    const status = res.status;
    if (status >= 200 && status < 300) return this.outcome(a, 'accepted', undefined, status);
    if (status === 404 || status === 410) {
      await this.deps.store.remove(sub.deviceId, sub.endpoint);
      this.deps.log.info('push subscription expired; removed', { device: a.deviceId, status });
      return this.outcome(
        a,
        'removed',
        'The push service says this subscription is gone; turn notifications on again on the device.',
        status,
      );
    }
    if (status === 429) {
      a.rateLimited += 1;
      const wait = retryAfterMs(res.headers['retry-after'], this.now()) ?? this.policy.defaultRetryAfterMs;
      const quietFor = Math.min(wait, this.policy.maxRetryAfterMs);
      this.quietUntil.set(origin, Math.max(this.quietUntil.get(origin) ?? 0, this.now() + quietFor));
      if (a.rateLimited > this.policy.rateLimitRetries || wait > this.policy.maxRetryAfterMs) {
        return this.outcome(
          a,
          'failed',
          `rate limited by the push service; gave up after ${a.rateLimited} tries`,
          status,
        );
      }
      return this.waitAndSend(a, wait, 'rate limited by the push service', 'retrying', status);
    }
    if (status >= 300 && status < 400)
      return this.outcome(
        a,
        'failed',
        'the push service answered with a redirect, which Errand does not follow',
        status,
      );
    if (status >= 400 && status < 500) {
      const why =
        status === 413
          ? 'payload too large'
          : status === 401 || status === 403
            ? 'push keys not accepted'
            : 'request refused';
      return this.outcome(a, 'failed', `${why} (${oneLineBody(res.body)})`, status);
    }
    return this.retryOrFail(a, status, `push service error${res.body ? ` (${oneLineBody(res.body)})` : ''}`);
  }

  /**
   * The push goes again in `ms` (or at the next start, when Errand is stopping): recorded as
   * `retrying`, not `failed`, as it has not failed yet (most such pushes are accepted seconds later).
   */
  private waitAndSend(a: Attempt, ms: number, why: string, next: string, status?: number): PushOutcome {
    if (this.stopped) return this.outcome(a, 'retrying', `${why}; ${AT_NEXT_START}`, status, false);
    this.later(ms, a);
    return this.outcome(a, 'retrying', `${why}; ${next} in ${Math.ceil(ms / 1000)} s`, status, false);
  }

  private retryOrFail(a: Attempt, status: number | undefined, why: string): PushOutcome {
    a.failures += 1;
    // Errand is stopping: the push stays pending and goes again when it starts.
    if (this.stopped && a.failures < this.policy.attempts)
      return this.outcome(a, 'retrying', `${why}; ${AT_NEXT_START}`, status, false);
    if (a.failures >= this.policy.attempts) {
      return this.outcome(
        a,
        'failed',
        `${why}; gave up after ${a.failures} attempt${a.failures > 1 ? 's' : ''}`,
        status,
      );
    }
    const wait = this.backoff(a.failures);
    this.later(wait, a);
    return this.outcome(a, 'retrying', `${why}; retrying in ${Math.max(1, Math.round(wait / 1000))} s`, status, false);
  }
}

/** The push service an endpoint belongs to (its scheme, host and port). */
function originOf(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return endpoint;
  }
}

function oneLineBody(body: string | undefined): string {
  return (
    (body ?? '')
      .replace(/[^\x20-\x7e]+/g, ' ')
      .trim()
      .slice(0, 120) || 'no details'
  );
}
