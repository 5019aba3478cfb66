import { render } from 'preact';
import { App } from './App.js';
import { start } from './conn/connection.js';
import { loadOutbox } from './conn/outbox.js';
import { watchInstall } from './lib/install.js';
import { startRouting, takePairCode } from './lib/route.js';
import { registerServiceWorker } from './lib/sw-register.js';
import { authStore, connStore, loadPersisted } from './state/app.js';
import './styles.css';

// Read and remove a pairing code before anything else, so it never lingers in the address bar.
const pairCode = takePairCode();
startRouting();
watchInstall();
registerServiceWorker();

async function boot(): Promise<void> {
  try {
    await Promise.all([loadPersisted(), loadOutbox()]);
  } catch (e) {
    console.error('errand: could not read local storage', e);
  }
  if (!authStore.get()) connStore.set({ status: 'unpaired' });
  else connStore.set((c) => ({ ...c, status: 'connecting' }));
  render(<App pairCode={pairCode} />, document.getElementById('app')!);
  if (authStore.get() && !pairCode) start();
}

void boot();
