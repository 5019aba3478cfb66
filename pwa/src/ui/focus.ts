// Where keyboard and screen-reader focus goes when the control that had it is gone (a decided card,
// a saved form, a new screen): somewhere that says where the person is, never back to <body>, where
// they would start over from the top of the page.
import { useEffect, useRef } from 'preact/hooks';

/** Focus was lost: on nothing, or on an element no longer in the page. */
export function focusLost(): boolean {
  const a = document.activeElement;
  return !a || a === document.body || !a.isConnected;
}

/**
 * The focused control is about to go (a decided card, a saved form, a deleted row): once it has gone,
 * focus the first of `targets` in the page. Given up when focus moves on by itself meanwhile (the
 * person went on), or after `withinMs`; the answer the removal waits for can take a while.
 */
export function refocusWhenGone(targets: () => Array<HTMLElement | null | undefined>, withinMs = 10_000): void {
  const had = document.activeElement;
  const until = Date.now() + withinMs;
  const step = () => {
    if (!focusLost() && document.activeElement !== had) return;
    if (focusLost()) {
      const target = targets().find((el) => el?.isConnected);
      if (target) {
        // A heading or a status line is focusable by script only.
        if (target.tabIndex < 0 && !target.hasAttribute('tabindex')) target.tabIndex = -1;
        target.focus();
        return;
      }
    }
    if (Date.now() < until) requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
}

/** The screen changed since the last heading took focus (the first screen of a load is left alone). */
let headingWanted = false;

/** The route changed: the next screen's heading takes focus if the control that had it went (main.tsx). */
export function wantScreenHeadingFocus(): void {
  headingWanted = true;
}

/**
 * A screen's heading (tabindex=-1) takes focus when its screen replaced the one whose control had it,
 * unless the screen focused something itself (the new task's message box).
 */
export function useFocusOnNewScreen<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  useEffect(() => {
    if (!headingWanted) return;
    headingWanted = false;
    if (focusLost()) ref.current?.focus({ preventScroll: true });
  }, []);
  return ref;
}
