// A thread's notifications close once the person sees the thread in the app or decides there what
// it waited for: a "Needs your OK" answered in the app would otherwise stay on the lock screen until
// the next push of the thread replaced it.
import { useEffect } from 'preact/hooks';

/** The tag the daemon gives every push of a thread (daemon/src/push/payload.ts threadTag). */
const threadTag = (threadId: string) => `thread-${threadId}`;

export async function closeThreadNotifications(threadId: string): Promise<void> {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return;
  const reg = await navigator.serviceWorker.getRegistration('/');
  if (!reg || typeof reg.getNotifications !== 'function') return;
  for (const n of await reg.getNotifications({ tag: threadTag(threadId) })) n.close();
}

const closeQuietly = (threadId: string) => void closeThreadNotifications(threadId).catch(() => undefined);

/** While the thread is on screen and the app in front, its notifications are closed. */
export function useThreadNotificationsClosed(threadId: string | undefined): void {
  useEffect(() => {
    if (!threadId) return;
    const seen = () => {
      if (document.visibilityState === 'visible') closeQuietly(threadId);
    };
    seen();
    document.addEventListener('visibilitychange', seen);
    return () => document.removeEventListener('visibilitychange', seen);
  }, [threadId]);
}

/** The person decided or answered in the app what a notification of the thread asked. */
export const decidedInApp = closeQuietly;
