// `errand roots`: the folders the agent may work in (the workspace first), and whether each is usable.
import fs from 'node:fs';
import path from 'node:path';
import { readConfigFile } from '../../config/load.js';
import { homePaths } from '../../config/paths.js';
import { controlCall, DaemonNotRunningError } from '../../control/client.js';
import type { RootsView as DaemonRootsView } from '../../control/protocol.js';
import type { CliCommand, CliIO } from '../command.js';
import { forTerminal } from '../terminal-text.js';

type RootsView = Omit<DaemonRootsView, 'sandbox'> & { sandbox?: DaemonRootsView['sandbox']; running: boolean };

/** Ask the running daemon; without one, read config.json. */
export async function rootsView(home: string): Promise<RootsView> {
  try {
    const v = await controlCall(homePaths(home).socket, 'roots.list', {}, { timeoutMs: 10_000 });
    return { ...v, running: true };
  } catch (err) {
    if (!(err instanceof DaemonNotRunningError)) throw err;
    const paths = homePaths(home);
    const raw = readConfigFile(paths.config);
    const configured = Array.isArray(raw.roots) ? raw.roots.filter((r): r is string => typeof r === 'string') : [];
    const roots = [paths.workspace, ...configured].map((p) => {
      const abs = path.resolve(p);
      let problem: string | undefined;
      try {
        if (!fs.statSync(abs).isDirectory()) problem = 'not a folder';
      } catch {
        problem = 'does not exist';
      }
      return { path: abs, exists: problem !== 'does not exist', ...(problem ? { problem } : {}) };
    });
    return { roots, workspace: paths.workspace, running: false };
  }
}

/** Tell a running daemon to re-read config.json; true when it did. */
export async function reloadDaemon(home: string, io: CliIO): Promise<boolean> {
  try {
    await controlCall(homePaths(home).socket, 'config.reload', {}, { timeoutMs: 10_000 });
    return true;
  } catch (err) {
    if (err instanceof DaemonNotRunningError) {
      io.out('The daemon is not running; the change takes effect when it starts.');
      return false;
    }
    io.err(`errand: the change is saved, but the daemon did not reload it: ${(err as Error).message}`);
    return false;
  }
}

export function printRoots(io: CliIO, v: RootsView): void {
  io.out('Folders the agent may use:');
  v.roots.forEach((r, i) => {
    const note = r.problem ? `  (${forTerminal(r.problem)}: not used)` : '';
    // A folder's name on disk, or a path typed into config.json: escapes in it are shown, not run.
    io.out(`  ${forTerminal(r.path)}${i === 0 ? '  (workspace, always allowed)' : ''}${note}`);
  });
  if (v.sandbox)
    io.out(
      v.sandbox.enabled
        ? 'Shell sandbox: on (writes only in these folders, no network).'
        : `Shell sandbox: OFF (${forTerminal(v.sandbox.reason ?? 'unavailable')}): every shell command needs approval.`,
    );
  if (!v.running) io.out('(The daemon is not running; this is what config.json says.)');
}

export const rootsCommand: CliCommand = {
  name: 'roots',
  summary: 'List the folders the agent may work in',
  help: `Usage:
  errand roots [--json]

Lists the folders the agent may read and change: the workspace folder (always first) and every
folder added with \`errand allow\`. Errand's own state folder is never reachable, even inside them.
Manage them with \`errand allow <folder>\` and \`errand disallow <folder>\`.`,
  async run(args, io) {
    const v = await rootsView(args.home);
    if (args.values.json === true) io.out(JSON.stringify(v, null, 2));
    else printRoots(io, v);
    return 0;
  },
};
