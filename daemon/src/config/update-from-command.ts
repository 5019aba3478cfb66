// config.json changed by a command from a phone (spending limits, web research): a full disk is the
// command's plain answer, as for every other command, never an internal error. The file is left
// as it was (it is replaced whole through a temp file).
import { CommandError } from '../util/command-error.js';
import { updateConfigFile } from './load.js';

export function updateConfigFromCommand(home: string, change: (raw: Record<string, unknown>) => void): void {
  try {
    updateConfigFile(home, change);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT')
      throw new CommandError(
        'unavailable',
        `The host could not save this: disk full at ${home}. Free some space, then send it again.`,
      );
    throw err;
  }
}
