// Turn a push payload into what the notification shows. Anything unexpected becomes a generic
// notification: a push must always show something, and never show text we did not check.
import { PUSH_KINDS } from '../../shared/src/push-kinds.js';
import { cutWhole, visibleProse } from '../../shared/src/visible-text.js';

export interface ShownNotification {
  title: string;
  body: string;
  tag: string;
  url: string;
  renotify: boolean;
  /** A missed scheduled run: the notification's Run and Skip buttons decide it. */
  schedule?: { id: string; occurrenceId: string };
  /** The push's id: posted back as its receipt when shown and when tapped. */
  receipt?: string;
}

const KNOWN: ReadonlySet<string> = new Set(PUSH_KINDS);
const ID = /^[A-Za-z0-9_-]{1,128}$/;

export const GENERIC: ShownNotification = {
  title: 'Errand',
  body: 'Errand: something happened on your computer',
  tag: 'errand',
  url: '/',
  renotify: false,
};

/** A title or line as the notification shows it: hidden characters (tag text) as markers, length capped (code points). */
const clip = (s: unknown, n: number): string | undefined => {
  if (typeof s !== 'string' || !s.trim()) return undefined;
  const shown = visibleProse(s);
  if (Array.from(shown).length <= n) return shown;
  // A marker cut in two ("⟨U+20") would read as text: it goes whole ("⟨" is always a marker's start).
  return `${cutWhole(shown, n - 1).replace(/⟨[^⟩]*$/, '')}…`;
};

/**
 * Whether this very push is on screen already (the same tag and receipt id): the computer sent it again,
 * as its first attempt seemed to fail or a restart cut it short. Shown again (a push must always show
 * something), but without a second buzz.
 */
export function shownAlready(
  n: Pick<ShownNotification, 'tag' | 'receipt'>,
  onScreen: readonly { tag: string; data?: unknown }[],
): boolean {
  return (
    n.receipt !== undefined &&
    onScreen.some((s) => s.tag === n.tag && (s.data as { receipt?: unknown } | null | undefined)?.receipt === n.receipt)
  );
}

export function notificationFor(data: unknown, origin: string): ShownNotification {
  if (!data || typeof data !== 'object') return GENERIC;
  const d = data as Record<string, unknown>;
  const type = typeof d.type === 'string' ? d.type : '';
  const title = clip(d.title, 120);
  if (!title) return GENERIC;
  const threadId = typeof d.threadId === 'string' && ID.test(d.threadId) ? d.threadId : undefined;
  let url = threadId ? `/#thread=${encodeURIComponent(threadId)}` : '/';
  // A given link is used only if it stays inside this app.
  if (!threadId && typeof d.url === 'string') {
    try {
      const u = new URL(d.url, origin);
      if (u.origin === origin) url = u.pathname + u.search + u.hash;
    } catch {
      /* keep the default */
    }
  }
  const tag =
    typeof d.tag === 'string' && /^[\w:.-]{1,64}$/.test(d.tag) ? d.tag : threadId ? `thread-${threadId}` : 'errand';
  const sched = d.schedule as { id?: unknown; occurrenceId?: unknown } | undefined;
  const schedule =
    type === 'schedule.missed' &&
    sched &&
    typeof sched.id === 'string' &&
    ID.test(sched.id) &&
    typeof sched.occurrenceId === 'string' &&
    ID.test(sched.occurrenceId)
      ? { id: sched.id, occurrenceId: sched.occurrenceId }
      : undefined;
  const receipt = typeof d.receipt === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(d.receipt) ? d.receipt : undefined;
  return {
    ...(receipt ? { receipt } : {}),
    title,
    body: clip(d.body, 300) ?? (KNOWN.has(type) ? '' : GENERIC.body),
    tag,
    url,
    // Every kind Errand sends is one the person waits for: it buzzes even when it replaces an earlier
    // notification of the thread (same tag), which otherwise happens silently (a "done" after an
    // approval answered in the app). The tag still keeps one notification per thread.
    renotify: KNOWN.has(type),
    ...(schedule ? { schedule } : {}),
  };
}
