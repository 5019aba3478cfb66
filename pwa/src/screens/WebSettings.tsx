// Settings card for the API's web tools: web search and web fetch on or off (web.set).
import { useState } from 'preact/hooks';
import { request } from '../conn/connection.js';
import { appStore, connStore } from '../state/app.js';
import { useStore } from '../state/store.js';
import { ErrorText } from '../ui/common.js';

export function WebSettings() {
  const web = useStore(appStore, (s) => s.host?.web);
  // The computer's status has come (it is only known once connected): without `web`, it has no such settings.
  const hostKnown = useStore(appStore, (s) => !!s.host);
  const online = useStore(connStore, (c) => c.status === 'online');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  if (!web) {
    if (hostKnown) return null;
    // Opened before the computer was reached (after a reload offline): the card says why it is empty.
    return (
      <section class="card" aria-labelledby="s-web">
        <h2 id="s-web">Web research</h2>
        <p class="muted">{online ? 'Loading…' : 'Shown when your computer is reachable.'}</p>
      </section>
    );
  }
  const set = async (change: { search?: boolean; fetch?: boolean }) => {
    setBusy(true);
    setError(undefined);
    try {
      await request({ type: 'web.set', ...change });
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="s-web">
      <h2 id="s-web">Web research</h2>
      <label class="web-check">
        <input
          type="checkbox"
          checked={web.search}
          disabled={busy || !online}
          onChange={(e) => void set({ search: (e.target as HTMLInputElement).checked })}
        />{' '}
        Web search
      </label>
      <label class="web-check">
        <input
          type="checkbox"
          checked={web.fetch}
          disabled={busy || !online}
          onChange={(e) => void set({ fetch: (e.target as HTMLInputElement).checked })}
        />{' '}
        Read web pages (web fetch)
      </label>
      <p class="muted">
        Pages the agent reads are untrusted: after it reads one, reading more pages in that task needs your OK.
      </p>
      {!online && <p class="muted">Connect to your computer to change web research.</p>}
      {web.refused && <p class="error">The model endpoint does not support these tools; they are off for it.</p>}
      <ErrorText error={error} />
    </section>
  );
}
