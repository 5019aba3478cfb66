// `errand push`: which devices get notifications, what happened to recent pushes, send a test.
import { type PushSummary, pushStateWords, summarizePushes } from '../../../../shared/src/index.js';
import type { PushTestResult as TestResult } from '../../control/protocol.js';
import type { CliCommand } from '../command.js';
import { ago, callDaemon } from '../daemon-client.js';
import { forTerminal } from '../terminal-text.js';

const time = (at: number) => new Date(at).toISOString().slice(0, 19).replace('T', ' ');
const clock = (at: number | undefined) => (at === undefined ? '' : new Date(at).toISOString().slice(11, 19));

function pushLine(p: PushSummary): string {
  const steps = [
    p.acceptedAt !== undefined ? `accepted ${clock(p.acceptedAt)}` : '',
    p.deliveredAt !== undefined ? `delivered ${clock(p.deliveredAt)}` : '',
    p.openedAt !== undefined ? `opened ${clock(p.openedAt)}` : '',
  ].filter(Boolean);
  const who = p.deviceId ?? (p.channel ? `fallback (${p.channel})` : 'escalation');
  return `${time(p.at)}  ${who}  ${p.kind}  ${forTerminal(pushStateWords(p))}${p.status && (p.state === 'failed' || p.state === 'retrying') ? ` (HTTP ${p.status})` : ''}${steps.length ? `  [${steps.join(', ')}]` : ''}${p.escalated ? '  (escalated)' : ''}`;
}

function testLine(r: TestResult): string {
  const who = r.device ? `${forTerminal(r.device)} (${r.deviceId})` : r.deviceId;
  if (r.error) return `${who}: not sent: ${forTerminal(r.error)}`;
  const o = r.outcome!;
  if (o.result === 'delivered') return `${who}: delivered`;
  return `${who}: not delivered: ${forTerminal(o.detail ?? pushStateWords({ state: o.result }))}`;
}

export const pushCommand: CliCommand = {
  name: 'push',
  summary: 'Notification status: subscribed devices, recent outcomes, test push',
  help: `Usage:
  errand push [--json]                     devices subscribed to notifications
  errand push outcomes [<deviceId>] [--json]  each recent push per device: accepted by the push service,
                                           delivered (shown), opened (tapped), not sent yet (retrying),
                                           or failed with the reason
  errand push test <deviceId> | --all      send a test notification; says within 10 s whether each device
                                           showed it (exit 1 when one did not)`,
  allowPositionals: true,
  options: { all: { type: 'boolean' } },
  async run(args, io) {
    const json = args.values.json === true;
    const [action = 'status', deviceId] = args.positionals;
    if (action === 'status') {
      const s = await callDaemon(io, args.home, 'push.status');
      if (!s) return 1;
      if (json) io.out(JSON.stringify(s.subscriptions, null, 2));
      else if (s.subscriptions.length === 0)
        io.out('No device has notifications on. Turn them on in the app: Settings → Notifications.');
      else
        for (const sub of s.subscriptions)
          io.out(
            `${sub.deviceId}  ${forTerminal(sub.device ?? '(removed device)')}  via ${sub.service}, since ${ago(sub.since)}${sub.current === false ? ' — made with old push keys: open Errand on this device to renew' : ''}`,
          );
      return 0;
    }
    if (action === 'outcomes') {
      const list = await callDaemon(io, args.home, 'push.outcomes', deviceId ? { deviceId } : {});
      if (!list) return 1;
      // One line per push and device, its furthest step: accepted → delivered → opened, or retrying, or failed.
      const pushes = summarizePushes(list);
      if (json) io.out(JSON.stringify(pushes, null, 2));
      else if (pushes.length === 0) io.out('No pushes yet.');
      else for (const p of pushes) io.out(pushLine(p));
      return 0;
    }
    if (action === 'test') {
      if (args.values.all === true) {
        const results = await callDaemon(io, args.home, 'push.test', { all: true });
        // With `all`, one result per device.
        if (!results || !Array.isArray(results)) return 1;
        if (json) io.out(JSON.stringify(results, null, 2));
        else if (results.length === 0)
          io.out('No device has notifications on. Turn them on in the app: Settings → Notifications.');
        else for (const r of results) io.out(testLine(r));
        return results.length > 0 && results.every((r) => r.outcome?.result === 'delivered') ? 0 : 1;
      }
      if (!deviceId) {
        io.err('Usage: errand push test <deviceId> | --all (ids are shown by `errand push`).');
        return 2;
      }
      const outcome = await callDaemon(io, args.home, 'push.test', { deviceId });
      if (!outcome || Array.isArray(outcome)) return 1;
      io.out(json ? JSON.stringify(outcome) : testLine({ deviceId, outcome }));
      return outcome.result === 'delivered' ? 0 : 1;
    }
    io.err('errand push: unknown action. Try `errand push --help`.');
    return 2;
  },
};
