// Whether each task's tokens and cost show under it (a setting; by default they sit behind "Usage").
// Kept in localStorage: a display preference of this phone, read synchronously at first render.
import { createStore } from '../state/store.js';

const KEY = 'errand.showCost';

function read(): boolean {
  try {
    return localStorage.getItem(KEY) === '1';
  } catch {
    return false;
  }
}

export const showCostStore = createStore<boolean>(read());

export function setShowCost(on: boolean): void {
  try {
    localStorage.setItem(KEY, on ? '1' : '0');
  } catch {
    /* storage blocked: the choice lasts until the app closes */
  }
  showCostStore.set(on);
}
