// A minimal observable store and a Preact hook to read it.
import { useEffect, useRef, useState } from 'preact/hooks';

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

/**
 * What a subscription compares against: the selector of the latest render (usually an inline arrow
 * reading props) and the value that render showed. Kept in a ref, so one subscription per component
 * lasts as long as it is mounted: subscribing again after every render cost an effect per render of
 * every component that reads a store (each streamed word rendered several).
 */
export function useSelection<T, S>(store: Store<T>, select: (v: T) => S) {
  const current = select(store.get());
  const ref = useRef({ select, shown: current });
  ref.current.select = select;
  ref.current.shown = current;
  return { current, ref };
}

/** Re-render when the selected slice changes (compared with Object.is). */
export function useStore<T, S>(store: Store<T>, select: (v: T) => S): S {
  const [, force] = useState(0);
  const { current, ref } = useSelection(store, select);
  useEffect(() => {
    const check = () => {
      const next = ref.current.select(store.get());
      if (!Object.is(next, ref.current.shown)) {
        ref.current.shown = next;
        force((n) => n + 1);
      }
    };
    // A change between the first render and the subscription is not missed.
    check();
    return store.subscribe(check);
  }, [store]);
  return current;
}
