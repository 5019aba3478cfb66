import { useCallback, useEffect, useRef } from 'preact/hooks';

/**
 * Keeps a scrolled box at its newest content while the box itself changes size: the phone's keyboard
 * opening (interactive-widget=resizes-content shrinks the page), the message box growing line by line
 * as the person types, a phone turned sideways. None of these renders the thread again, so its own
 * stick-to-bottom (on render) never saw them and the box kept its top: the question being answered,
 * or a card's Retry or "Allow for this task", went under the message box.
 *
 * Only while `atNewest` holds (the person reads the newest): a view scrolled up, or placed by the app
 * at a waiting approval's top, keeps its place.
 *
 * Returns whether the box has a size not handled yet. A scroll event then is the browser's own (its
 * scroll anchoring moved the view as the box shrank), not the person leaving the newest: the caller
 * must not let it clear `atNewest` before the resize is handled here.
 */
export function useKeepLatestOnResize(
  box: { readonly current: HTMLElement | null },
  atNewest: { readonly current: boolean },
): () => boolean {
  // The border box last handled: offsetWidth/offsetHeight change only when the observed box does.
  const seen = useRef<{ width: number; height: number } | undefined>(undefined);
  useEffect(() => {
    const el = box.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    seen.current = { width: el.offsetWidth, height: el.offsetHeight };
    const watch = new ResizeObserver(() => {
      const was = seen.current;
      seen.current = { width: el.offsetWidth, height: el.offsetHeight };
      // The first report is the size it already had: nothing changed, nothing to keep.
      if (was && was.width === el.offsetWidth && was.height === el.offsetHeight) return;
      if (atNewest.current) el.scrollTop = el.scrollHeight;
    });
    watch.observe(el, { box: 'border-box' });
    return () => {
      watch.disconnect();
      seen.current = undefined;
    };
  }, [box, atNewest]);
  return useCallback(() => {
    const el = box.current;
    const was = seen.current;
    return !!el && !!was && (was.width !== el.offsetWidth || was.height !== el.offsetHeight);
  }, [box]);
}
