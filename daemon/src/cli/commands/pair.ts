// `errand pair`: show a QR code, wait for a phone to claim it, approve it on this terminal.

import { loopbackOnlyHint, otherLanOrigins } from '../../server/origins.js';
import type { CliCommand } from '../command.js';
import { runPairSession } from '../pair-session.js';
import { renderQr } from '../qr.js';
import { RESTART } from '../restart-hint.js';
import { forTerminal } from '../terminal-text.js';

const RESTART_FOR_PHONE =
  'This address works only on this computer: the setting that lets a phone reach Errand is saved, but the ' +
  `running daemon uses it only after a restart. Restart it (${RESTART}), then run \`errand pair\` again.`;

export const pairCommand: CliCommand = {
  name: 'pair',
  summary: 'Pair a phone: show a QR code, then approve the device',
  help: `Usage: errand pair [--yes] [--json]

Shows a QR code with a one-time pairing link (valid for 5 minutes, single use). Scan it with the
phone's camera; when the phone claims it, this command shows the device's name and address and
asks you to approve.

Options:
  --yes    approve the first device that claims the code without asking (for scripts)
  --json   print machine-readable lines (the code, each claim, the result)`,
  options: { yes: { type: 'boolean', short: 'y' } },
  async run(args, io) {
    const json = args.values.json === true;
    return runPairSession(io, args.home, {
      as: 'pair',
      autoApprove: args.values.yes === true,
      json,
      showCode: async (p) => {
        if (json) {
          io.out(
            JSON.stringify({
              url: p.url,
              expiresAt: new Date(p.expiresAt).toISOString(),
              phoneReachable: p.phoneReachable !== false,
              ...(p.restartNeeded ? { restartNeeded: true } : {}),
            }),
          );
          return;
        }
        io.out(await renderQr(p.url));
        io.out(
          `Scan this with your phone, or open:\n  ${p.url}\nThe code works once and expires at ${new Date(p.expiresAt).toLocaleTimeString()}.`,
        );
        if (p.restartNeeded) io.out(RESTART_FOR_PHONE);
        else if (p.phoneReachable === false) io.out(loopbackOnlyHint());
        else if (!p.url.startsWith('https://')) {
          // This computer may be on several networks (Wi-Fi and a dock, a VPN): the QR code shows the
          // likeliest, and the phone may be on another one.
          const others = otherLanOrigins(p.url);
          if (others.length)
            io.out(
              `If the phone cannot open it, it may be on another network of this computer; try:\n${others
                .map((o) => `  ${o.origin}/#pair=${p.code}  (${forTerminal(o.interface)})`)
                .join('\n')}`,
            );
          io.out(
            'Warning: this is plain HTTP on your network; notifications, install and offline use need HTTPS (see `errand expose`).',
          );
        }
      },
    });
  },
};
