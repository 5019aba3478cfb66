import { useEffect, useRef, useState } from 'preact/hooks';
import { visibleText } from '../../../shared/src/visible-text.js';
import { claimPairing, peekPairing } from '../conn/http.js';
import { installStore, promptInstall } from '../lib/install.js';
import { defaultDeviceName, isIOS, isStandalone } from '../lib/platform.js';
import { navigate } from '../lib/route.js';
import { saveAuth } from '../state/app.js';
import { useStore } from '../state/store.js';
import { focusLost } from '../ui/focus.js';
import { NotificationsSwitch } from './Notifications.js';

type Phase = { step: 'name' } | { step: 'waiting' } | { step: 'failed'; kind: string; message: string };

const RUN_AGAIN = 'On your computer, run `errand pair` again and scan the new QR code.';

export function PairScreen({ code, onDone }: { code: string; onDone(): void }) {
  const [name, setName] = useState(defaultDeviceName());
  const [phase, setPhase] = useState<Phase>({ step: 'name' });
  const abort = useRef<AbortController | undefined>(undefined);
  useEffect(() => () => abort.current?.abort(), []);
  // Name the computer this code pairs with, so the person knows what they are connecting to.
  const [hostName, setHostName] = useState<string>();
  useEffect(() => {
    if (!/^[A-Za-z0-9_-]{22,64}$/.test(code)) return;
    const ac = new AbortController();
    void peekPairing(code, ac.signal).then(setHostName);
    return () => ac.abort();
  }, [code]);

  const claim = async (e: Event) => {
    e.preventDefault();
    const n = name.trim();
    if (!n) return;
    setPhase({ step: 'waiting' });
    abort.current = new AbortController();
    const r = await claimPairing(code, n, abort.current.signal);
    if (abort.current.signal.aborted) return;
    if (r.ok) {
      await saveAuth({
        token: r.token,
        deviceId: r.deviceId,
        hostName: r.hostName,
        deviceName: n,
        pairedAt: Date.now(),
      });
      onDone();
      navigate({ name: 'welcome' }, true);
      return;
    }
    setPhase({ step: 'failed', kind: r.kind, message: r.message });
  };

  // Opened by a link, or by "Pair again" (whose button is gone): focus starts at the heading.
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (focusLost()) heading.current?.focus({ preventScroll: true });
  }, []);

  const malformed = !/^[A-Za-z0-9_-]{22,64}$/.test(code);
  return (
    <main class="screen pad center" aria-labelledby="pair-title">
      <h1 id="pair-title" ref={heading} tabIndex={-1}>
        Pair this phone
      </h1>
      {hostName && !malformed && (
        <p class="big" data-testid="pair-host">
          with <strong>{visibleText(hostName)}</strong>
        </p>
      )}
      {malformed ? (
        <div class="card" role="alert">
          <p>This pairing link is incomplete or damaged.</p>
          <p>{RUN_AGAIN}</p>
        </div>
      ) : phase.step === 'name' ? (
        <form class="stack" onSubmit={claim}>
          <label for="device-name">Name for this device</label>
          <input
            id="device-name"
            value={name}
            maxLength={80}
            required
            autoComplete="off"
            onInput={(e) => setName(e.currentTarget.value)}
          />
          <button class="primary" type="submit" aria-label="Pair this device">
            Pair
          </button>
          <p class="muted">Your computer will ask you to approve this device.</p>
        </form>
      ) : phase.step === 'waiting' ? (
        <div class="card stack" role="status" aria-live="polite">
          <div class="spinner" aria-hidden="true" />
          <p class="big">Approve on your computer</p>
          <p class="muted">Your computer shows a request from “{name.trim()}”. Accept it there to finish pairing.</p>
          <button
            type="button"
            aria-label="Cancel pairing"
            onClick={() => {
              abort.current?.abort();
              setPhase({
                step: 'failed',
                kind: 'cancelled',
                message: 'You cancelled pairing. The code cannot be used again.',
              });
            }}
          >
            Cancel
          </button>
        </div>
      ) : (
        <div class="card stack" role="alert">
          <p class="big">
            {phase.kind === 'code_invalid'
              ? 'This pairing code cannot be used'
              : phase.kind === 'denied'
                ? 'Pairing was denied'
                : 'Pairing did not finish'}
          </p>
          <p>{phase.message}</p>
          {/* A code is used up by its first claim, even one that is denied or times out. */}
          {phase.kind === 'code_invalid' ||
          phase.kind === 'denied' ||
          phase.kind === 'timeout' ||
          phase.kind === 'cancelled' ? (
            <p>{RUN_AGAIN}</p>
          ) : (
            <button type="button" class="primary" aria-label="Try pairing again" onClick={claim}>
              Try again
            </button>
          )}
        </div>
      )}
    </main>
  );
}

/**
 * A pairing link opened on a phone that is already paired: any web page can send one, so the app
 * says what it is paired with and asks before showing the pairing form.
 */
export function AlreadyPaired({
  hostName,
  onPairAgain,
  onBack,
}: {
  hostName: string;
  onPairAgain(): void;
  onBack(): void;
}) {
  // A security question, opened by a link: keyboard and screen-reader users start at its heading,
  // not at the top of an unnamed page (a heading takes focus by script only, as on other screens).
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (focusLost()) heading.current?.focus({ preventScroll: true });
  }, []);
  return (
    <main class="screen pad center" aria-labelledby="already-paired-title">
      <h1 id="already-paired-title" ref={heading} tabIndex={-1}>
        Already paired
      </h1>
      <div class="card stack">
        <p class="big">
          This phone is already paired with <strong>{visibleText(hostName)}</strong>.
        </p>
        <p>
          Pair again only if you just ran <code>errand pair</code> on your computer. Otherwise go back to the app:
          nothing changes.
        </p>
        <button type="button" class="primary" onClick={onBack}>
          Back to Errand
        </button>
        <button type="button" onClick={onPairAgain}>
          Pair again
        </button>
      </div>
    </main>
  );
}

export function NotPaired({ revoked }: { revoked?: boolean }) {
  return (
    <main class="screen pad center" aria-labelledby="np-title">
      <h1 id="np-title">{revoked ? 'This device was removed' : 'Errand'}</h1>
      <div class="card stack">
        {revoked && <p>Your computer no longer accepts this device, so it was signed out.</p>}
        <p>To use Errand on this phone, pair it with your computer:</p>
        <ol>
          <li>
            On your computer, run <code>errand pair</code>.
          </li>
          <li>Scan the QR code it shows with this phone's camera.</li>
        </ol>
      </div>
    </main>
  );
}

export function InstallGuide() {
  const { prompt, installed } = useStore(installStore, (s) => s);
  if (installed || isStandalone()) return <p class="muted">Errand is on your home screen.</p>;
  if (isIOS()) {
    return (
      <div class="stack">
        <p>Add Errand to your Home Screen so it opens like an app and can notify you:</p>
        <ol>
          <li>
            Tap the <strong>Share</strong> button (the square with an arrow) in Safari.
          </li>
          <li>
            Choose <strong>Add to Home Screen</strong>, then <strong>Add</strong>.
          </li>
          <li>Open Errand from the Home Screen.</li>
        </ol>
      </div>
    );
  }
  if (prompt) {
    return (
      <div class="stack">
        <p>Add Errand to your home screen so it opens like an app.</p>
        <button type="button" class="primary" aria-label="Add to Home Screen" onClick={() => void promptInstall()}>
          Add to Home Screen
        </button>
      </div>
    );
  }
  return (
    <p>
      To add Errand to your home screen, open the browser menu (⋮) and choose <strong>Install app</strong> or{' '}
      <strong>Add to Home screen</strong>.
    </p>
  );
}

export function Welcome() {
  return (
    <main class="screen pad" aria-labelledby="welcome-title">
      <h1 id="welcome-title">Paired</h1>
      <p>This phone is now a remote for your computer.</p>
      <section class="card stack" aria-label="Add to Home Screen">
        <h2>Add to Home Screen</h2>
        <InstallGuide />
      </section>
      <section class="card stack" aria-label="Notifications">
        <h2>Notifications</h2>
        <NotificationsSwitch />
      </section>
      <button
        type="button"
        class="primary wide"
        aria-label="Start using Errand"
        onClick={() => navigate({ name: 'list' }, true)}
      >
        Start
      </button>
    </main>
  );
}
