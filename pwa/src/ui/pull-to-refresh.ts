// Pull down at the top of a list to refresh it, as phone apps do: past the threshold, letting go
// refreshes; the distance pulled is shown (with resistance) until then.
import type { RefObject } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

const THRESHOLD = 64;

export type PullState =
  | { phase: 'idle' }
  | { phase: 'pulling'; distance: number; ready: boolean }
  | { phase: 'refreshing' };

export function usePullToRefresh(target: RefObject<HTMLElement | null>, refresh: () => Promise<void>): PullState {
  const [state, setState] = useState<PullState>({ phase: 'idle' });
  const refreshRef = useRef(refresh);
  refreshRef.current = refresh;
  useEffect(() => {
    const el = target.current;
    if (!el) return;
    let startY: number | undefined;
    let distance = 0;
    let busy = false;
    const onStart = (e: TouchEvent) => {
      startY = !busy && el.scrollTop <= 0 && e.touches.length === 1 ? e.touches[0].clientY : undefined;
      distance = 0;
    };
    const onMove = (e: TouchEvent) => {
      if (startY === undefined) return;
      const dy = e.touches[0].clientY - startY;
      if (dy <= 0 || el.scrollTop > 0) {
        startY = undefined;
        setState({ phase: 'idle' });
        return;
      }
      distance = Math.min(120, dy / 2); // resistance: the list moves half as far as the finger
      setState({ phase: 'pulling', distance, ready: distance >= THRESHOLD });
    };
    const onEnd = () => {
      if (startY === undefined) return;
      startY = undefined;
      if (distance < THRESHOLD) {
        setState({ phase: 'idle' });
        return;
      }
      busy = true;
      setState({ phase: 'refreshing' });
      refreshRef
        .current()
        .catch(() => undefined)
        .finally(() => {
          busy = false;
          setState({ phase: 'idle' });
        });
    };
    el.addEventListener('touchstart', onStart, { passive: true });
    el.addEventListener('touchmove', onMove, { passive: true });
    el.addEventListener('touchend', onEnd);
    el.addEventListener('touchcancel', onEnd);
    return () => {
      el.removeEventListener('touchstart', onStart);
      el.removeEventListener('touchmove', onMove);
      el.removeEventListener('touchend', onEnd);
      el.removeEventListener('touchcancel', onEnd);
    };
  }, [target]);
  return state;
}
