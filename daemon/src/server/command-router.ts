// Routes authenticated client commands to the module that owns them. Modules register their
// handlers at start-up; the WebSocket gateway only validates, de-duplicates and dispatches.
import type { CommandOf, CommandType, ErrorCode } from '../../../shared/src/index.js';
import type { DeviceRecord } from '../store/devices.js';

export interface CommandContext {
  device: DeviceRecord;
  address: string | undefined;
  connectionId: string;
}

export type CommandHandler<T extends CommandType> = (cmd: CommandOf<T>, ctx: CommandContext) => Promise<unknown>;

/** A failure the client should see as-is: a code to branch on and a sentence to show. */
export class CommandError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export class CommandRouter {
  private handlers = new Map<CommandType, CommandHandler<CommandType>>();

  register<T extends CommandType>(type: T, handler: CommandHandler<T>): void {
    if (this.handlers.has(type)) throw new Error(`command ${type} registered twice`);
    this.handlers.set(type, handler as unknown as CommandHandler<CommandType>);
  }

  has(type: CommandType): boolean {
    return this.handlers.has(type);
  }

  async dispatch<T extends CommandType>(cmd: CommandOf<T>, ctx: CommandContext): Promise<unknown> {
    const handler = this.handlers.get(cmd.type);
    if (!handler) throw new CommandError('unavailable', `The host does not handle "${cmd.type}" yet.`);
    return handler(cmd as CommandOf<CommandType>, ctx);
  }
}
