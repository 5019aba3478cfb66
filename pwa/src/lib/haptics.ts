// A short buzz where the platform has one (Android Chrome; iOS Safari has no vibrate): when a thread
// starts waiting for the person (an approval or a question) and when a task finishes. Only changes
// seen once the app has caught up with the computer count, never the state found on load.
import type { AppState } from '../state/model.js';
import type { Store } from '../state/store.js';

const WAITING = [30, 60, 30];
const DONE = [20];
const BUSY = new Set(['running', 'queued', 'waiting']);

export function installHaptics(store: Store<AppState>, onSynced: (fn: () => void) => unknown): void {
  if (typeof navigator === 'undefined' || typeof navigator.vibrate !== 'function') return;
  let prev = store.get().threads;
  let armed = false;
  onSynced(() => {
    prev = store.get().threads;
    armed = true;
  });
  store.subscribe(() => {
    const next = store.get().threads;
    if (next === prev) return;
    if (!armed) {
      prev = next;
      return;
    }
    let pattern: number[] | undefined;
    for (const [id, t] of Object.entries(next)) {
      const before = prev[id];
      const was = before?.urgentState ?? before?.lastTaskState;
      const now = t.urgentState ?? t.lastTaskState;
      if (!before || was === now) continue;
      if (now === 'waiting') pattern = WAITING;
      else if (now === 'done' && was && BUSY.has(was)) pattern ??= DONE;
    }
    prev = next;
    if (pattern && document.visibilityState === 'visible') navigator.vibrate(pattern);
  });
}
