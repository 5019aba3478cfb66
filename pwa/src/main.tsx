import { render } from 'preact';
import { App } from './App.js';
import { dropPreconnect, isOnline, onSynced, preconnect, request, start } from './conn/connection.js';
import { loadOutbox } from './conn/outbox.js';
import { installHaptics } from './lib/haptics.js';
import { watchInstall } from './lib/install.js';
import { takePendingOpen } from './lib/pending-open.js';
import { navigate, parseHash, startRouting, takePairCode } from './lib/route.js';
import { registerServiceWorker } from './lib/sw-register.js';
import { appStore, authStore, connStore, loadPersisted } from './state/app.js';
import './styles.css';

// Read and remove a pairing code before anything else, so it never lingers in the address bar.
const pairCode = takePairCode();
// Open the socket while the pairing is read from storage (not when pairing now).
if (!pairCode) preconnect();
startRouting();
watchInstall();
registerServiceWorker();
installHaptics(appStore, onSynced);

// A Run or Skip tapped on a missed-run notification: send it once connected (the service worker
// opens the app, or tells an open one).
const decidePending = () =>
  void import('./lib/pending-decision.js')
    .then((m) => m.takePendingDecision())
    .then((d) =>
      d
        ? request({
            type: 'schedule.decide',
            scheduleId: d.scheduleId,
            occurrenceId: d.occurrenceId,
            decision: d.decision,
          })
        : undefined,
    )
    .catch((e: Error) =>
      appStore.set((s) => ({
        ...s,
        notices: [
          ...s.notices,
          { level: 'warning' as const, text: `The missed run could not be decided: ${e.message}`, at: Date.now() },
        ].slice(-5),
      })),
    );
onSynced(decidePending);
navigator.serviceWorker?.addEventListener('message', (e: MessageEvent) => {
  if ((e.data as { type?: string } | undefined)?.type === 'open' && isOnline()) decidePending();
});

// Push receipts that waited on this phone while the computer was unreachable go now.
onSynced(() => {
  void import('./lib/receipts.js').then((m) => m.flushReceipts()).catch(() => undefined);
});

// Each time the app connects, keep this phone's notifications working: when the computer's push keys
// changed (or it lost this subscription), subscribe again. Loaded only where notifications are allowed.
onSynced(() => {
  if (!('Notification' in window) || Notification.permission !== 'granted') return;
  import('./lib/push.js')
    .then((m) => m.renewPushIfNeeded())
    .catch(() =>
      appStore.set((s) => ({
        ...s,
        notices: [
          ...s.notices,
          {
            level: 'warning' as const,
            text: 'Notifications need renewing on this phone: open Settings → Notifications and turn them on again.',
            at: Date.now(),
          },
        ].slice(-5),
      })),
    );
});

async function boot(): Promise<void> {
  // Everything local is read at once: the pairing, the cached state, the outbox, a tapped notification.
  const pendingOpen = takePendingOpen().catch(() => undefined); // no IndexedDB: the start page it is
  try {
    await Promise.all([loadPersisted(), loadOutbox()]);
  } catch (e) {
    console.error('errand: could not read local storage', e);
  }
  if (!authStore.get()) connStore.set({ status: 'unpaired' });
  else connStore.set((c) => ({ ...c, status: 'connecting' }));
  // Connect before the first render: opening the socket needs no screen, and the phone waits less.
  if (authStore.get() && !pairCode) start();
  else dropPreconnect();
  // Started from a tapped notification at the start page (iOS, when the app was closed): show its thread.
  const target = await pendingOpen;
  if (target && !location.hash && !pairCode) navigate(parseHash(target), true);
  render(<App pairCode={pairCode} />, document.getElementById('app')!);
  // The static shell index.html shows until now (it paints before any script has run).
  document.getElementById('boot')?.remove();
}

void boot();
