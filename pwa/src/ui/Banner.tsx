import { useEffect, useState } from 'preact/hooks';
import { poke } from '../conn/connection.js';
import { timeAgo } from '../lib/format.js';
import { applyUpdate, updateStore } from '../lib/sw-register.js';
import { appStore, connStore } from '../state/app.js';
import { useStore } from '../state/store.js';

/**
 * Whether this phone has a network at all. The browser's "offline" is reliable (no network: the
 * socket was dropped for it); its "online" only means some network, so the computer may still be out
 * of reach.
 */
function usePhoneOnline(): boolean {
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const update = () => setOnline(navigator.onLine);
    addEventListener('online', update);
    addEventListener('offline', update);
    return () => {
      removeEventListener('online', update);
      removeEventListener('offline', update);
    };
  }, []);
  return online;
}

/**
 * "Can't reach your computer": shown only after a real failure, never during the first connect. It
 * stays one short line (at large text "Offline", Why? and Retry) so the conversation and Send keep
 * the screen; what to check comes behind Why?. When the phone itself has no network, it says so
 * first: checking the computer would not help.
 */
export function ConnectionBanner() {
  // Only while offline: online, every frame from the host updates lastSeenAt (renders for nothing).
  const c = useStore(connStore, (s) => (s.status === 'offline' ? s : undefined));
  const phoneOnline = usePhoneOnline();
  const [, tick] = useState(0);
  const [why, setWhy] = useState(false);
  const offline = !!c;
  useEffect(() => {
    // The next time the computer is out of reach starts short again, Why? folded.
    if (!offline) return setWhy(false);
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [offline]);
  if (!c) return null;
  const secs = c.retryAt ? Math.max(0, Math.ceil((c.retryAt - Date.now()) / 1000)) : 0;
  const seen = timeAgo(c.lastSeenAt);
  return (
    <div class="banner banner-offline" role="status" aria-live="polite">
      <p class="banner-text">
        <span class="banner-long">
          {/* Two words: at phone width the banner stays the three lines it was beside Why? and Retry. */}
          {phoneOnline ? '' : 'Phone offline. '}Can't reach your computer — last seen {seen}.
        </span>
        {/* At large text, in the long sentence's place (which screen readers still read). */}
        <span class="banner-short" aria-hidden="true">
          Offline
        </span>
        {/* The countdown changes every second: shown, not announced (a screen reader would be interrupted each time). */}
        <span class="banner-countdown" aria-hidden="true">
          {secs > 1 ? ` Retrying in ${secs} s.` : ' Retrying…'}
        </span>
      </p>
      <button
        type="button"
        aria-expanded={why}
        aria-controls="offline-why"
        aria-label="Why can't it reach your computer?"
        onClick={() => setWhy(!why)}
      >
        Why?
      </button>
      <button type="button" aria-label="Retry now" onClick={poke}>
        Retry
      </button>
      {why && (
        // Scrolls within itself at large text: the conversation and Send keep their room.
        <p id="offline-why" class="banner-why">
          {phoneOnline ? <ComputerChecks seen={seen} /> : <PhoneChecks />}
        </p>
      )}
    </div>
  );
}

/** The phone has a network but no answer from the computer: what to check on the computer. */
function ComputerChecks({ seen }: { seen: string }) {
  return (
    <>
      Last seen {seen}. Check that your computer is on and awake and that Errand is running (run{' '}
      <code>errand status</code> on it). If you reach it over your home network, check that this phone is on that Wi-Fi.
    </>
  );
}

/** The phone has no network: the phone's connection first; the computer only once that is back. */
function PhoneChecks() {
  return (
    <>
      This phone has no network connection: turn on Wi-Fi or mobile data, or turn off flight mode. Messages you send
      wait here and go to your computer once the phone is back online. If the computer still can't be reached then,
      check that it is on and awake and that Errand is running (run <code>errand status</code> on it), and, over your
      home network, that this phone is on that Wi-Fi.
    </>
  );
}

export function UpdateBanner() {
  const waiting = useStore(updateStore, (s) => s.waiting);
  if (!waiting) return null;
  return (
    <div class="banner banner-update" role="status">
      <span>A new version is ready.</span>
      <button type="button" class="primary" aria-label="Reload to update" onClick={applyUpdate}>
        Reload
      </button>
    </div>
  );
}

/** The host's latest warning or error notice (e.g. "host is stopping"), until dismissed. */
export function NoticeBanner() {
  const notice = useStore(appStore, (s) => s.notices[s.notices.length - 1]);
  // "Tasks were interrupted… open them to resume" is done with once no thread's latest task is.
  const anyInterrupted = useStore(appStore, (s) =>
    Object.values(s.threads).some((t) => t.state !== 'deleted' && t.lastTaskState === 'interrupted'),
  );
  const [dismissed, setDismissed] = useState(0);
  if (!notice || notice.level === 'info' || notice.at <= dismissed || Date.now() - notice.at > 60 * 60_000) return null;
  if (/\binterrupted\b/.test(notice.text) && !anyInterrupted) return null;
  return (
    <div class={`banner banner-${notice.level}`} role="alert">
      <span>{notice.text}</span>
      <button type="button" aria-label="OK, dismiss notice" onClick={() => setDismissed(notice.at)}>
        OK
      </button>
    </div>
  );
}
