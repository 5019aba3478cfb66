// Load a screen's code on first use, so the first paint ships less JavaScript.
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export function lazy<P extends object>(load: () => Promise<{ default: ComponentType<P> }>): ComponentType<P> {
  let cached: ComponentType<P> | undefined;
  return function Lazy(props: P) {
    const [C, setC] = useState<ComponentType<P> | undefined>(() => cached);
    const [error, setError] = useState(false);
    useEffect(() => {
      if (C) return;
      load().then(
        (m) => {
          cached = m.default;
          setC(() => m.default);
        },
        () => setError(true),
      );
    }, []);
    if (error)
      return (
        <p class="error pad" role="alert">
          This screen could not load. Check the connection and reopen it.
        </p>
      );
    return C ? <C {...props} /> : <p class="muted pad">Loading…</p>;
  };
}
