// `errand devices`: list, rename, revoke paired devices.
import type { CliCommand } from '../command.js';
import { ago, callDaemon } from '../daemon-client.js';
import { forTerminal } from '../terminal-text.js';

export const devicesCommand: CliCommand = {
  name: 'devices',
  summary: 'List, rename or revoke paired devices',
  help: `Usage:
  errand devices [--json]                 list paired devices
  errand devices rename <id> <new name>   rename a device
  errand devices revoke <id>              revoke a device: its connections close at once`,
  allowPositionals: true,
  async run(args, io) {
    const json = args.values.json === true;
    const [action, id, ...rest] = args.positionals;
    if (action === 'rename' || action === 'revoke') {
      // `rename <id> ""` gives a name with nothing in it: a usage error like a missing one.
      const blankName = action === 'rename' && rest.length > 0 && rest.join(' ').trim() === '';
      if (!id || (action === 'rename' && rest.length === 0) || blankName) {
        io.err(
          `${blankName ? 'errand devices: the new name is empty.\n' : ''}Usage: errand devices ${action} <id>${action === 'rename' ? ' <new name>' : ''} (ids are shown by \`errand devices\`)`,
        );
        return 2;
      }
      const result = await callDaemon(
        io,
        args.home,
        `devices.${action}`,
        action === 'rename' ? { deviceId: id, name: rest.join(' ') } : { deviceId: id },
      );
      if (result === undefined) return 1;
      if (json) io.out(JSON.stringify(result));
      else if (action === 'revoke') io.out(`Revoked ${id}; its connections are closed.`);
      else {
        const asked = rest.join(' ');
        const got = ('name' in result ? result.name : undefined) ?? asked;
        // Names are kept to 80 visible characters; say so rather than shorten silently.
        io.out(
          got === asked.trim()
            ? `Renamed ${id} to "${forTerminal(got)}".`
            : `Renamed ${id} to "${forTerminal(got)}" (shortened: names keep at most 80 characters, without control characters).`,
        );
      }
      return 0;
    }
    if (action !== undefined && action !== 'list') {
      io.err('errand devices: unknown action. Try `errand devices --help`.');
      return 2;
    }
    const devices = await callDaemon(io, args.home, 'devices.list');
    if (devices === undefined) return 1;
    if (json) {
      io.out(JSON.stringify(devices, null, 2));
      return 0;
    }
    if (devices.length === 0) {
      io.out('No devices paired yet. Run `errand pair`.');
      return 0;
    }
    // Device names come from phones: strip control characters before they reach the terminal.
    for (const d of devices) {
      io.out(
        `${d.id}  ${forTerminal(d.name)}${d.online ? '  (online)' : ''}\n    paired ${ago(d.pairedAt)}, last seen ${ago(d.lastSeenAt)}${d.lastAddress ? ` from ${forTerminal(d.lastAddress)}` : ''}`,
      );
    }
    return 0;
  },
};
