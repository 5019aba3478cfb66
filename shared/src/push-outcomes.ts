// Pushes as people read them: the steps recorded for one push to one device (accepted, delivered,
// opened, or retrying and failed) folded into one line each, newest first. Used by `errand push outcomes` and
// Settings → Notifications.
import type { PushOutcome } from './protocol/entities.js';

export type PushState = PushOutcome['result'];

export interface PushSummary {
  pushId?: string;
  /** What devices get instead of the push id (see PushOutcome.ref). */
  ref?: string;
  deviceId?: string;
  channel?: 'ntfy' | 'webhook';
  kind: string;
  threadId?: string;
  /** When the push was first recorded. */
  at: number;
  /** The furthest state reached (opened > delivered > accepted > retrying / failed / suppressed / removed). */
  state: PushState;
  acceptedAt?: number;
  deliveredAt?: number;
  openedAt?: number;
  /** Nobody confirmed it in time, so it went on to other devices or the fallback channel. */
  escalated?: boolean;
  detail?: string;
  status?: number;
}

const RANK: Record<PushState, number> = {
  escalated: 0,
  retrying: 1,
  failed: 1,
  removed: 1,
  suppressed: 1,
  sent: 2,
  accepted: 2,
  delivered: 3,
  opened: 4,
};

/** Fold outcomes (any order) into one summary per push and device, newest first. */
export function summarizePushes(outcomes: readonly PushOutcome[]): PushSummary[] {
  const byKey = new Map<string, PushSummary>();
  const sorted = [...outcomes].sort((a, b) => a.at - b.at);
  sorted.forEach((o, i) => {
    const id = o.ref ?? o.pushId;
    const key = id ? `${id}|${o.deviceId ?? o.channel ?? ''}` : `#${i}`;
    let s = byKey.get(key);
    if (!s) {
      s = {
        ...(o.pushId ? { pushId: o.pushId } : {}),
        ...(o.ref ? { ref: o.ref } : {}),
        ...(o.deviceId ? { deviceId: o.deviceId } : {}),
        ...(o.channel ? { channel: o.channel } : {}),
        kind: o.kind,
        ...(o.threadId ? { threadId: o.threadId } : {}),
        at: o.at,
        state: o.result,
      };
      byKey.set(key, s);
    }
    if (o.result === 'escalated') {
      s.escalated = true;
      if (s.state === 'escalated') s.state = o.result;
      return;
    }
    if (o.result === 'accepted' || o.result === 'sent') s.acceptedAt ??= o.at;
    if (o.result === 'delivered') s.deliveredAt ??= o.at;
    if (o.result === 'opened') s.openedAt ??= o.at;
    // A later failure (a retry that gave up) or success replaces an earlier failure; receipts only raise.
    if (RANK[o.result] >= RANK[s.state] || RANK[s.state] <= 1) {
      s.state = o.result;
      if (o.detail) s.detail = o.detail;
      else if (RANK[o.result] >= 2 && o.result !== 'delivered' && o.result !== 'opened') delete s.detail;
      if (o.status !== undefined) s.status = o.status;
    }
  });
  return [...byKey.values()].sort((a, b) => b.at - a.at);
}

/** "delivered", "accepted by the push service, not confirmed by the device", "failed: …". */
export function pushStateWords(s: Pick<PushSummary, 'state' | 'detail' | 'channel'>): string {
  if (s.channel)
    return s.state === 'accepted' || s.state === 'sent'
      ? `sent to the ${s.channel} fallback`
      : `${s.channel} fallback failed${s.detail ? `: ${s.detail}` : ''}`;
  switch (s.state) {
    case 'opened':
      return 'opened';
    case 'delivered':
      return 'delivered';
    case 'accepted':
    case 'sent':
      return 'accepted by the push service, not confirmed by the device yet';
    case 'suppressed':
      return 'not sent (the thread was open on the device)';
    case 'retrying':
      return `not sent yet${s.detail ? `: ${s.detail}` : ', another attempt follows'}`;
    case 'removed':
      return `not sent: subscription gone${s.detail ? ` (${s.detail})` : ''}`;
    case 'escalated':
      return `sent on${s.detail ? `: ${s.detail}` : ' (nobody confirmed it in time)'}`;
    default:
      return `failed${s.detail ? `: ${s.detail}` : ''}`;
  }
}
