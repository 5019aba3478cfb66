// A failure the client should see as-is: a code to branch on and a sentence to show. Lives beneath every
// module (agent, tools, push, connectors) so none of them reaches up into server/ to fail a command.
import type { ErrorCode } from '../../../shared/src/index.js';

export class CommandError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}
