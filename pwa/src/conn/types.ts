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

/**
 * The computer answered and said no (no such task or file, not one it shows, a request it cannot
 * read): asking again gets the same answer, unlike a failure to reach it.
 */
export const isRefusal = (err: unknown): boolean =>
  err instanceof CommandFailed && (err.code === 'not_found' || err.code === 'forbidden' || err.code === 'bad_request');
