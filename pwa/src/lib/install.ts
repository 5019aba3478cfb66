// Add-to-Home-Screen: keep Chromium's beforeinstallprompt event for a button; know when installed.
import { createStore } from '../state/store.js';

interface BeforeInstallPromptEvent extends Event {
  prompt(): Promise<void>;
  userChoice: Promise<{ outcome: 'accepted' | 'dismissed' }>;
}

export const installStore = createStore<{ prompt?: BeforeInstallPromptEvent; installed: boolean }>({
  installed: false,
});

export function watchInstall(): void {
  addEventListener('beforeinstallprompt', (e) => {
    e.preventDefault();
    installStore.set((s) => ({ ...s, prompt: e as BeforeInstallPromptEvent }));
  });
  addEventListener('appinstalled', () => installStore.set({ installed: true }));
}

export async function promptInstall(): Promise<boolean> {
  const p = installStore.get().prompt;
  if (!p) return false;
  await p.prompt();
  const choice = await p.userChoice;
  installStore.set((s) => ({ ...s, prompt: undefined, installed: choice.outcome === 'accepted' }));
  return choice.outcome === 'accepted';
}
