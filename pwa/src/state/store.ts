// A minimal observable store and a Preact hook to read it.
import { useEffect, useState } from 'preact/hooks';

export interface Store<T> {
  get(): T;
  set(next: T | ((cur: T) => T)): void;
  subscribe(fn: () => void): () => void;
}

export function createStore<T>(initial: T): Store<T> {
  let value = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => value,
    set(next) {
      const v = typeof next === 'function' ? (next as (c: T) => T)(value) : next;
      if (Object.is(v, value)) return;
      value = v;
      for (const fn of [...listeners]) fn();
    },
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}

/** Re-render when the selected slice changes (compared with Object.is). */
export function useStore<T, S>(store: Store<T>, select: (v: T) => S): S {
  const [, force] = useState(0);
  const current = select(store.get());
  useEffect(() => {
    let last = select(store.get());
    const check = () => {
      const next = select(store.get());
      if (!Object.is(next, last)) {
        last = next;
        force((n) => n + 1);
      }
    };
    check();
    return store.subscribe(check);
    // The selector is usually an inline arrow; re-subscribing each render is cheap and keeps it current.
  });
  return current;
}
