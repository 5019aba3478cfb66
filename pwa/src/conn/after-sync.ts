// What else happens each time the app has caught up with the computer: a missed-run decision taken
// on a notification is sent, push receipts that waited go, and this phone's push subscription is
// renewed if the computer's keys changed. Their code loads only when needed. Started from main.tsx.
import { appStore } from '../state/app.js';
import { isOnline, onSynced, request } from './connection.js';

function notice(text: string): void {
  appStore.set((s) => ({
    ...s,
    notices: [...s.notices, { level: 'warning' as const, text, at: Date.now() }].slice(-5),
  }));
}

// A Run or Skip tapped on a missed-run notification: send it once connected (the service worker
// opens the app, or tells an open one).
const decidePending = () =>
  void import('../lib/pending-decision.js')
    .then((m) => m.takePendingDecision())
    .then((d) =>
      d
        ? request({
            type: 'schedule.decide',
            scheduleId: d.scheduleId,
            occurrenceId: d.occurrenceId,
            decision: d.decision,
          })
        : undefined,
    )
    .catch((e: Error) => notice(`The missed run could not be decided: ${e.message}`));

export function startAfterSync(): void {
  onSynced(decidePending);
  navigator.serviceWorker?.addEventListener('message', (e: MessageEvent) => {
    if ((e.data as { type?: string } | undefined)?.type === 'open' && isOnline()) decidePending();
  });

  // Push receipts that waited on this phone while the computer was unreachable go now.
  onSynced(() => {
    void import('../lib/receipts.js').then((m) => m.flushReceipts()).catch(() => undefined);
  });

  // Keep this phone's notifications working: when the computer's push keys changed (or it lost this
  // subscription), subscribe again. Loaded only where notifications are allowed.
  onSynced(() => {
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    import('../lib/push.js')
      .then((m) => m.renewPushIfNeeded())
      .catch(() =>
        notice('Notifications need renewing on this phone: open Settings → Notifications and turn them on again.'),
      );
  });
}
