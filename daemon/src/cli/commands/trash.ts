// `errand trash`: what the agent deleted (moved to Errand's trash), and putting it back.
import type { CliCommand, CliIO } from '../command.js';
import { ago, callDaemon } from '../daemon-client.js';
import { forTerminal, linesForTerminal } from '../terminal-text.js';

/**
 * Paths here are files' existing names (an extracted archive, a download): they may hold escapes
 * that would retitle the window, erase lines or write the clipboard. The daemon's refusals quote them too.
 */
const withShownErrors = (io: CliIO): CliIO => ({ ...io, err: (text) => io.err(linesForTerminal(text).join('\n')) });

export const trashCommand: CliCommand = {
  name: 'trash',
  summary: 'List what the agent deleted, and restore it',
  help: `Usage:
  errand trash [--json]        files and folders the agent deleted (nothing is deleted for good)
  errand trash restore <id>    put one back where it was (refused if that place is taken or no longer allowed)`,
  allowPositionals: true,
  async run(args, io) {
    const [action = 'list', id] = args.positionals;
    if (action === 'restore') {
      if (!id) {
        io.err('Usage: errand trash restore <id> (ids are shown by `errand trash`).');
        return 2;
      }
      const r = await callDaemon(withShownErrors(io), args.home, 'trash.restore', { id });
      if (!r) return 1;
      io.out(args.values.json === true ? JSON.stringify(r) : `Restored ${forTerminal(r.restored)}.`);
      return 0;
    }
    if (action !== 'list') {
      io.err('errand trash: unknown action. Try `errand trash --help`.');
      return 2;
    }
    const r = await callDaemon(withShownErrors(io), args.home, 'trash.list');
    if (!r) return 1;
    if (args.values.json === true) io.out(JSON.stringify(r.items, null, 2));
    else if (r.items.length === 0) io.out('The trash is empty.');
    else
      for (const i of r.items)
        io.out(
          `${forTerminal(i.id)}  ${forTerminal(i.originalPath)}\n    deleted ${ago(i.at)} by task ${forTerminal(i.taskId)}`,
        );
    return 0;
  },
};
