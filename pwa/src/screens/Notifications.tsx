import { useCallback, useEffect, useState } from 'preact/hooks';
// The fold only, not the shared index: that would pull the schemas (zod) into the first chunk.
import { type PushSummary, pushStateWords, summarizePushes } from '../../../shared/src/push-outcomes.js';
import { request } from '../conn/connection.js';
import { timeAgo } from '../lib/format.js';
import {
  currentSubscription,
  disablePush,
  enablePush,
  type PushSupport,
  pushFailureWords,
  pushSupport,
} from '../lib/push.js';
import { appStore, connStore } from '../state/app.js';
import { useStore } from '../state/store.js';

const WHY: Record<string, string> = {
  'ios-not-installed':
    'On iPhone and iPad, notifications work only in the installed app. Add Errand to your Home Screen first (Share → Add to Home Screen), then open it from there and turn notifications on.',
  unsupported: 'This browser cannot receive push notifications.',
  insecure:
    'Notifications need a secure (https) address for Errand. Set up Tailscale Serve or a public https URL on your computer.',
  denied:
    'Notifications are blocked for Errand. Allow them in the browser’s site settings (or the phone’s Settings → Notifications), then come back here.',
};

const KIND: Record<string, string> = {
  test: 'Test push',
  'task.done': 'Task done',
  'task.failed': 'Task failed',
  'task.interrupted': 'Task interrupted',
  approval: 'Approval',
  question: 'Question',
  'schedule.missed': 'Missed run',
};

function describe(s: PushSummary): string {
  return `${KIND[s.kind] ?? `Push (${s.kind})`} ${pushStateWords(s)} ${timeAgo(s.at)}${s.status && s.state === 'failed' ? ` (HTTP ${s.status})` : ''}`;
}

/** The same answer: kept as it was, so reading it again on every focus renders nothing. */
const sameSupport = (a: PushSupport, b: PushSupport) => a.ok === b.ok && (a.ok || b.ok || a.why === b.why);

/**
 * Whether this device can take notifications, kept current: "blocked … then come back here" must go
 * once the person has allowed them in the browser's or the phone's settings and come back, without
 * leaving the screen. Read again when the permission changes and whenever the app is back in front.
 */
function usePushSupport(): [PushSupport, () => void] {
  const [support, setSupport] = useState(pushSupport);
  const refresh = useCallback(() => {
    const now = pushSupport();
    setSupport((was) => (sameSupport(was, now) ? was : now));
  }, []);
  useEffect(() => {
    const visible = () => {
      if (document.visibilityState === 'visible') refresh();
    };
    document.addEventListener('visibilitychange', visible);
    addEventListener('focus', refresh);
    let status: PermissionStatus | undefined;
    let gone = false;
    // Not everywhere (older Safari has no notifications permission to query): coming back still refreshes.
    navigator.permissions?.query({ name: 'notifications' }).then(
      (s) => {
        if (gone) return;
        status = s;
        s.addEventListener('change', refresh);
      },
      () => undefined,
    );
    return () => {
      gone = true;
      document.removeEventListener('visibilitychange', visible);
      removeEventListener('focus', refresh);
      status?.removeEventListener('change', refresh);
    };
  }, [refresh]);
  return [support, refresh];
}

export function NotificationsSwitch() {
  const [support, refreshSupport] = usePushSupport();
  const [on, setOn] = useState<boolean | undefined>(undefined);
  /** Waiting for the permission prompt, the browser's push service and the computer's reply. */
  const [busy, setBusy] = useState<'Turning on…' | 'Turning off…'>();
  const [error, setError] = useState<string>();
  const [info, setInfo] = useState<string>();
  const deviceId = useStore(connStore, (c) => c.device?.id);
  const online = useStore(connStore, (c) => c.status === 'online');
  const outcomes = useStore(appStore, (s) => s.pushOutcomes);
  // This device's pushes, and the escalations and fallback messages (they concern every device).
  const mine = summarizePushes(outcomes.filter((o) => o.deviceId === deviceId || !o.deviceId));
  const last = mine[0];

  useEffect(() => {
    void currentSubscription()
      .then((s) => setOn(!!s))
      .catch(() => setOn(false));
  }, []);
  const [subjectProblem, setSubjectProblem] = useState<string>();
  useEffect(() => {
    if (!online) return;
    request({ type: 'push.key' })
      .then((k) => setSubjectProblem(k.subjectProblem))
      .catch(() => undefined);
    request({ type: 'push.outcomes' })
      .then((list) => appStore.set((s) => ({ ...s, pushOutcomes: [...list].sort((a, b) => b.at - a.at).slice(0, 20) })))
      .catch(() => undefined);
  }, [online]);

  // An error from before the permission changed (blocked, say) no longer holds.
  const supportKey = support.ok ? 'ok' : support.why;
  useEffect(() => setError(undefined), [supportKey]);

  if (!support.ok)
    return (
      <p class="notice" role="note">
        {WHY[support.why]}
      </p>
    );

  const toggle = async () => {
    setBusy(on ? 'Turning off…' : 'Turning on…');
    setError(undefined);
    setInfo(undefined);
    try {
      if (on) {
        await disablePush();
        setOn(false);
      } else {
        await enablePush();
        setOn(true);
      }
    } catch (e) {
      setError(pushFailureWords(e, !on));
      refreshSupport();
      if (pushSupport().ok === false) setOn(false);
    } finally {
      setBusy(undefined);
    }
  };
  const test = async () => {
    setError(undefined);
    setInfo('Test push sent; waiting for this device to confirm it (up to 10 s)…');
    try {
      const o = await request({ type: 'push.test' });
      if (o.result === 'delivered') setInfo('Test push delivered to this device.');
      else {
        setInfo(undefined);
        setError(`Test push not delivered: ${o.detail ?? pushStateWords({ state: o.result })}`);
      }
    } catch (e) {
      setInfo(undefined);
      setError((e as Error).message);
    }
  };

  return (
    <div class="stack">
      <label class="switch-row">
        <span>Notify me when a task is done, fails, or needs me</span>
        <input
          type="checkbox"
          role="switch"
          aria-label="Notifications"
          checked={!!on}
          disabled={!!busy || on === undefined || !online}
          onChange={() => void toggle()}
        />
      </label>
      {busy && (
        <p class="muted" role="status">
          {busy}
        </p>
      )}
      {!online && <p class="muted">Connect to your computer to change notifications.</p>}
      {subjectProblem && (
        <p class="notice" role="note" aria-label="Push contact">
          iPhones may refuse these notifications: {subjectProblem}. On the computer, set push.subject in config.json to
          your own mailto: address, or give Errand its https address (errand expose).
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {info && (
        <p class="muted" role="status">
          {info}
        </p>
      )}
      <p class="muted" aria-label="Last push">
        {last ? describe(last) : 'No push sent to this device yet.'}
      </p>
      {mine.length > 1 && (
        <ul class="muted" aria-label="Recent pushes">
          {mine.slice(1, 6).map((p) => (
            <li key={`${p.ref ?? p.pushId ?? ''}${p.at}`}>{describe(p)}</li>
          ))}
        </ul>
      )}
      {on && (
        <button type="button" aria-label="Send test push" disabled={!online} onClick={() => void test()}>
          Send test push
        </button>
      )}
    </div>
  );
}
