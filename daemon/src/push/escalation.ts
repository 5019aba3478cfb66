// When nobody sees it: an approval or question that no device confirmed (no delivered receipt) within
// push.escalateAfterMinutes goes to the devices that did not get it (the one that showed the thread
// when it came, or one subscribed since), and when still nothing after as long again, to the fallback
// channel (ntfy or a webhook) if one is set. It stops as soon as the approval or question is answered,
// expires, or its task ends. Timers live in memory: after a restart nothing waits any more (a crash
// interrupts the task, which is pushed; a clean stop's task resumes and asks again, a new approval).
import type { PushOutcome } from '../../../shared/src/index.js';
import type { Logger } from '../util/log.js';
import type { FallbackConfig, FallbackMessage } from './fallback.js';
import type { PushJob } from './payload.js';
import type { Receipts } from './receipts.js';

export interface EscalationDeps {
  afterMs(): number;
  receipts: Receipts;
  /** Devices with a push subscription now. */
  subscribed(): string[];
  /** Push the job to these devices, whatever they show in the foreground. */
  resend(job: PushJob, deviceIds: string[]): Promise<void>;
  fallback(): FallbackConfig | undefined;
  sendFallback(target: FallbackConfig, m: FallbackMessage): Promise<{ ok: boolean; status?: number; detail?: string }>;
  report(outcome: PushOutcome): void;
  track(p: Promise<unknown>): void;
  log: Logger;
}

interface Watched {
  job: PushJob;
  message: FallbackMessage;
  /** Devices that were sent this job. */
  sentTo: Set<string>;
  stage: 'devices' | 'fallback';
  timer?: NodeJS.Timeout;
}

export class Escalations {
  /** Approvals and questions still waiting for the person, by job key → task id and expiry. */
  private readonly open = new Map<string, { taskId: string; expiresAt?: number }>();
  private readonly watched = new Map<string, Watched>();
  private stopped = false;

  constructor(private readonly deps: EscalationDeps) {}

  opened(jobKey: string, taskId: string, expiresAt?: number): void {
    this.open.set(jobKey, { taskId, ...(expiresAt ? { expiresAt } : {}) });
  }

  closed(jobKey: string): void {
    this.open.delete(jobKey);
    this.unwatch(jobKey);
  }

  taskEnded(taskId: string): void {
    for (const [key, o] of this.open) if (o.taskId === taskId) this.closed(key);
  }

  /** Whether this approval or question (by its job key) still waits for the person: not answered, expired or ended. */
  isOpen(jobKey: string): boolean {
    const o = this.open.get(jobKey);
    if (!o) return false;
    if (o.expiresAt !== undefined && Date.now() >= o.expiresAt) {
      this.open.delete(jobKey);
      return false;
    }
    return true;
  }

  /** Start the clock for a job just pushed to `sentTo`. */
  watch(job: PushJob, message: FallbackMessage, sentTo: string[]): void {
    if (this.stopped || !this.isOpen(job.key) || this.watched.has(job.key)) return;
    const w: Watched = { job, message, sentTo: new Set(sentTo), stage: 'devices' };
    this.watched.set(job.key, w);
    this.arm(w);
  }

  private arm(w: Watched): void {
    w.timer = setTimeout(() => {
      w.timer = undefined;
      this.deps.track(this.fire(w));
    }, this.deps.afterMs());
    w.timer.unref();
  }

  private unwatch(jobKey: string): void {
    const w = this.watched.get(jobKey);
    if (w?.timer) clearTimeout(w.timer);
    this.watched.delete(jobKey);
  }

  private confirmed(jobKey: string): boolean {
    return this.deps.receipts.forJob(jobKey).some((p) => this.deps.receipts.arrived(p.pushId));
  }

  private escalated(w: Watched, detail: string): void {
    this.deps.report({
      at: Date.now(),
      kind: w.job.payload.type,
      ...(w.job.threadId ? { threadId: w.job.threadId } : {}),
      result: 'escalated',
      detail,
    });
  }

  private async fire(w: Watched): Promise<void> {
    const key = w.job.key;
    if (this.stopped || !this.isOpen(key) || this.confirmed(key)) {
      this.unwatch(key);
      return;
    }
    const minutes = `${+(this.deps.afterMs() / 60_000).toFixed(2)} min`;
    if (w.stage === 'devices') {
      w.stage = 'fallback';
      const others = this.deps.subscribed().filter((id) => !w.sentTo.has(id));
      if (others.length > 0) {
        this.escalated(
          w,
          `no device confirmed it within ${minutes}: sent to ${others.length} more device${others.length > 1 ? 's' : ''}`,
        );
        for (const id of others) w.sentTo.add(id);
        this.arm(w);
        await this.deps.resend(w.job, others);
        return;
      }
    }
    this.unwatch(key);
    const target = this.deps.fallback();
    if (!target) {
      this.escalated(w, `no device confirmed it within ${minutes}, and no fallback channel is set (push.fallback)`);
      return;
    }
    this.escalated(w, `no device confirmed it within ${minutes}: sent to the ${target.type} fallback`);
    const r = await this.deps.sendFallback(target, w.message);
    if (this.stopped) return;
    this.deps.report({
      channel: target.type,
      at: Date.now(),
      kind: w.job.payload.type,
      ...(w.job.threadId ? { threadId: w.job.threadId } : {}),
      result: r.ok ? 'accepted' : 'failed',
      ...(r.detail ? { detail: r.detail } : {}),
      ...(r.status !== undefined ? { status: r.status } : {}),
    });
    if (!r.ok) this.deps.log.warn('push fallback failed', { channel: target.type, detail: r.detail });
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watched.values()) if (w.timer) clearTimeout(w.timer);
    this.watched.clear();
  }
}
