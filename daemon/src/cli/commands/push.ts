// `errand push`: which devices get notifications, what happened to recent pushes, send a test.
import type { PushOutcome } from '../../../../shared/src/index.js';
import type { CliCommand } from '../command.js';
import { ago, callDaemon } from '../daemon-client.js';
import { forTerminal } from '../terminal-text.js';

interface PushStatus {
  subscriptions: Array<{ deviceId: string; device?: string; service: string; since: number; current?: boolean }>;
}

export const pushCommand: CliCommand = {
  name: 'push',
  summary: 'Notification status: subscribed devices, recent outcomes, test push',
  help: `Usage:
  errand push [--json]                     devices subscribed to notifications
  errand push outcomes [<deviceId>] [--json]  what happened to recent pushes (sent, suppressed, failed)
  errand push test <deviceId>              send a test notification to a device`,
  allowPositionals: true,
  async run(args, io) {
    const json = args.values.json === true;
    const [action = 'status', deviceId] = args.positionals;
    if (action === 'status') {
      const s = (await callDaemon(io, args.home, 'push.status')) as PushStatus | undefined;
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
      const list = (await callDaemon(io, args.home, 'push.outcomes', deviceId ? { deviceId } : {})) as
        | PushOutcome[]
        | undefined;
      if (!list) return 1;
      if (json) io.out(JSON.stringify(list, null, 2));
      else if (list.length === 0) io.out('No pushes yet.');
      else
        for (const o of list)
          io.out(
            `${new Date(o.at).toISOString().slice(0, 19).replace('T', ' ')}  ${o.deviceId}  ${o.kind}  ${o.result}${o.status ? ` (${o.status})` : ''}${o.detail ? `: ${forTerminal(o.detail)}` : ''}`,
          );
      return 0;
    }
    if (action === 'test') {
      if (!deviceId) {
        io.err('Usage: errand push test <deviceId> (ids are shown by `errand push`).');
        return 2;
      }
      const outcome = (await callDaemon(io, args.home, 'push.test', { deviceId })) as PushOutcome | undefined;
      if (!outcome) return 1;
      io.out(
        json
          ? JSON.stringify(outcome)
          : `Test push ${outcome.result}${outcome.detail ? `: ${forTerminal(outcome.detail)}` : ''}.`,
      );
      return outcome.result === 'sent' ? 0 : 1;
    }
    io.err('errand push: unknown action. Try `errand push --help`.');
    return 2;
  },
};
