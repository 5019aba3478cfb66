import { render } from 'preact';
import { App } from './App.js';
import { startAfterSync } from './conn/after-sync.js';
import { dropPreconnect, onSynced, preconnect, start } from './conn/connection.js';
import { loadOutbox, startOutbox } from './conn/outbox.js';
import { installHaptics } from './lib/haptics.js';
import { watchInstall } from './lib/install.js';
import { takePendingOpen } from './lib/pending-open.js';
import { navigate, parseHash, routeStore, startRouting, takePairCode } from './lib/route.js';
import { registerServiceWorker } from './lib/sw-register.js';
import { appStore, authStore, connStore, loadPersisted, startPersistence } from './state/app.js';
import { wantScreenHeadingFocus } from './ui/focus.js';
import './styles.css';

// The composition root: no module does anything when imported; everything starts here, in order.

// Read and remove a pairing code before anything else, so it never lingers in the address bar.
const pairCode = takePairCode();
// Open the socket while the pairing is read from storage (not when pairing now).
if (!pairCode) preconnect();
startPersistence();
startRouting();
watchInstall();
registerServiceWorker();
// After each sync, in this order: the outbox sends, haptics arm, then decisions, receipts, push keys.
startOutbox();
installHaptics(appStore, onSynced);
startAfterSync();

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
  // From now on a screen that replaces another focuses its heading (not on the first one of a load).
  routeStore.subscribe(wantScreenHeadingFocus);
  // The static shell index.html shows until now (it paints before any script has run).
  document.getElementById('boot')?.remove();
}

void boot();
