// Helpers for commands that talk to the running daemon.
import { homePaths } from '../config/paths.js';
import { type ControlCallOptions, controlCall, DaemonNotRunningError } from '../control/client.js';
import type { ControlMethod, ControlParams, ControlResult } from '../control/protocol.js';
import type { CliIO } from './command.js';
import { linesForTerminal } from './terminal-text.js';

/** Call the daemon; when none runs, say so in one line. Returns undefined after printing an error. */
export async function callDaemon<M extends ControlMethod>(
  io: CliIO,
  home: string,
  method: M,
  params: ControlParams<M> = {} as ControlParams<M>,
  opts: ControlCallOptions<M> = {},
): Promise<ControlResult<M> | undefined> {
  try {
    return await controlCall(homePaths(home).socket, method, params, { timeoutMs: 15_000, ...opts });
  } catch (err) {
    // One voice: `errand <command>: …`, the command being the method's first part (push.test → push).
    // The daemon's words may quote a file or device name: nothing in them reaches the terminal raw.
    const said =
      err instanceof DaemonNotRunningError ? err.message : `errand ${method.split('.')[0]}: ${(err as Error).message}`;
    io.err(linesForTerminal(said).join('\n'));
    return undefined;
  }
}

export { timeAgo as ago } from '../../../shared/src/words.js';
