// A store slice read at most once per animation frame: streamed words arrive as many small events
// (several in one frame when the socket catches up), and the screen needs to show them once per frame.
import { useEffect, useState } from 'preact/hooks';
import { type Store, useSelection } from '../state/store.js';

/** Like useStore, but a change re-renders on the next animation frame, once however many came. */
export function useStoreByFrame<T, S>(store: Store<T>, select: (v: T) => S): S {
  const [, force] = useState(0);
  const { current, ref } = useSelection(store, select);
  useEffect(() => {
    let frame = 0;
    const check = () => {
      frame = 0;
      const next = ref.current.select(store.get());
      if (!Object.is(next, ref.current.shown)) {
        ref.current.shown = next;
        force((n) => n + 1);
      }
    };
    const later = () => {
      if (!frame) frame = requestAnimationFrame(check);
    };
    // A change between the first render and the subscription is not missed.
    later();
    const off = store.subscribe(later);
    return () => {
      off();
      cancelAnimationFrame(frame);
    };
  }, [store]);
  return current;
}
