import type { ClientCommand, CommandResultOf, CommandType } from '../../../shared/src/index.js';

/** A command's result, as shared/src/protocol/results.ts defines it (validated in validate.ts). */
export type ResultOf<T extends CommandType> = CommandResultOf<T>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A command without its id: the connection manager assigns one unless the caller brings its own. */
export type CommandInput = DistributiveOmit<ClientCommand, 'id'>;

export class CommandFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
