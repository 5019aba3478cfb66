// Service worker registration and update detection: a new version waits until the user chooses to
// reload, then takes over and the page reloads once.
import { createStore } from '../state/store.js';
import { navigate, parseHash } from './route.js';

export const updateStore = createStore<{ waiting?: ServiceWorker }>({});

export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  let reloading = false;
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (reloading || !updateStore.get().waiting) return;
    reloading = true;
    location.reload();
  });
  // The service worker asks an open window to show a thread when a notification is tapped.
  navigator.serviceWorker.addEventListener('message', (e: MessageEvent) => {
    const d = e.data as { type?: string; url?: string } | undefined;
    if (d?.type === 'open' && typeof d.url === 'string') {
      const u = new URL(d.url, location.origin);
      if (u.origin === location.origin) navigate(parseHash(u.hash));
    }
  });
  navigator.serviceWorker
    .register('/sw.js', { scope: '/' })
    .then((reg) => {
      const track = (w: ServiceWorker | null) => {
        if (!w) return;
        w.addEventListener('statechange', () => {
          if (w.state === 'installed' && navigator.serviceWorker.controller) updateStore.set({ waiting: w });
        });
      };
      if (reg.waiting && navigator.serviceWorker.controller) updateStore.set({ waiting: reg.waiting });
      track(reg.installing);
      reg.addEventListener('updatefound', () => track(reg.installing));
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible') reg.update().catch(() => undefined);
      });
    })
    .catch((err) => console.warn('errand: service worker registration failed', err));
}

export function applyUpdate(): void {
  const w = updateStore.get().waiting;
  if (w) w.postMessage({ type: 'SKIP_WAITING' });
  else location.reload();
}
