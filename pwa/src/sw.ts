/// <reference lib="webworker" />
// The service worker: precaches the app shell (so the app opens offline), falls back to index.html
// for navigations, shows a notification for every push, and opens the right thread on a tap.
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { savePendingDecision } from './lib/pending-decision.js';
import { savePendingOpen } from './lib/pending-open.js';
import { flushReceipts, sendReceipt } from './lib/receipts.js';
import { notificationFor, shownAlready } from './push-payload.js';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<{ url: string; revision: string | null }> };

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html'), { denylist: [/^\/api\//, /^\/ws/] }));

// The first install takes over open pages at once, so the app works offline from the first visit.
// Later versions wait for the user's "Reload" (SKIP_WAITING below).
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | undefined)?.type === 'SKIP_WAITING') void self.skipWaiting();
});

self.addEventListener('push', (event) => {
  let data: unknown;
  try {
    data = event.data?.json();
  } catch {
    data = undefined;
  }
  const n = notificationFor(data, self.location.origin);
  event.waitUntil(showPush(n));
});

/**
 * Always show something: a push that shows nothing gets the subscription penalised or revoked. One
 * already on screen (sent again with the same receipt id) replaces itself without buzzing again. Then say
 * so to the computer (delivered), with any receipts that waited for the network.
 */
async function showPush(n: ReturnType<typeof notificationFor>): Promise<void> {
  const onScreen = n.receipt ? await self.registration.getNotifications({ tag: n.tag }).catch(() => []) : [];
  await self.registration.showNotification(n.title, {
    body: n.body,
    tag: n.tag,
    data: { url: n.url, schedule: n.schedule, receipt: n.receipt },
    icon: '/icons/icon-192.png',
    badge: '/icons/badge-96.png',
    renotify: n.renotify && !shownAlready(n, onScreen),
    // A missed scheduled run is decided from the notification itself.
    ...(n.schedule
      ? {
          actions: [
            { action: 'run', title: 'Run now' },
            { action: 'skip', title: 'Skip' },
          ],
        }
      : {}),
  } as NotificationOptions);
  if (n.receipt) await sendReceipt({ pushId: n.receipt, state: 'delivered', at: Date.now() }).catch(() => undefined);
  await flushReceipts().catch(() => undefined);
}

async function openUrl(url: string): Promise<void> {
  const target = new URL(url, self.location.origin);
  if (target.origin !== self.location.origin) return;
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const client = windows.find((c) => new URL(c.url).origin === self.location.origin);
  if (client) {
    // Tell the app to show the thread (works whether or not this worker controls the page)…
    client.postMessage({ type: 'open', url: target.href });
    try {
      await client.focus();
    } catch {
      /* focusing needs a user gesture; the message already went */
    }
    return;
  }
  // …or open a new window on the thread. Some phones (iOS) start the app at its start page instead:
  // the target waits in IndexedDB, and the app shows it when it starts.
  await savePendingOpen(target.pathname + target.hash).catch(() => undefined);
  await self.clients.openWindow(target.href);
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data as {
    url?: unknown;
    schedule?: { id: string; occurrenceId: string };
    receipt?: unknown;
  } | null;
  const url = typeof data?.url === 'string' ? data.url : '/';
  const opened =
    typeof data?.receipt === 'string'
      ? sendReceipt({ pushId: data.receipt, state: 'opened', at: Date.now() }).catch(() => undefined)
      : Promise.resolve();
  const decision = event.action === 'run' || event.action === 'skip' ? event.action : undefined;
  // Run / Skip: leave the decision for the app (it sends it once connected), then open it.
  const done =
    decision && data?.schedule
      ? savePendingDecision({
          scheduleId: data.schedule.id,
          occurrenceId: data.schedule.occurrenceId,
          decision,
          at: Date.now(),
        }).then(() => openUrl(url))
      : openUrl(url);
  try {
    event.waitUntil(Promise.all([done, opened]));
  } catch {
    // Only an untrusted (synthetic) event refuses waitUntil; the work above still runs.
  }
});
