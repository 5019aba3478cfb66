// Re-render a component only when its props changed: a streamed word then re-renders the message it
// belongs to, not the whole conversation. (Preact's own `memo` lives in preact/compat, which this app
// does not otherwise need.)
import { Component, type FunctionComponent, h } from 'preact';

export function shallowEqual(a: object, b: object): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.is((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** The same elements in the same order (arrays rebuilt on every update, of objects that were not). */
export function sameElements<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

// A page that defines this before the app loads sees the props of every memoised render that was not
// skipped: how pwa/test/thread-memo.test.ts shows a streamed word re-renders only its own message.
const probe = (globalThis as { __errandRenderProbe?: (props: object) => void }).__errandRenderProbe;

export function memo<P extends object>(
  render: FunctionComponent<P>,
  same: (prev: P, next: P) => boolean = shallowEqual,
): FunctionComponent<P> {
  class Memo extends Component<P> {
    shouldComponentUpdate(next: P): boolean {
      return !same(this.props, next);
    }
    render() {
      probe?.(this.props);
      return h(render, this.props);
    }
  }
  (Memo as unknown as { displayName: string }).displayName = `Memo(${render.displayName ?? render.name})`;
  return Memo as unknown as FunctionComponent<P>;
}
