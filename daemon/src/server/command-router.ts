// Routes authenticated client commands to the module that owns them. Modules register their
// handlers at start-up; the WebSocket gateway only validates, de-duplicates and dispatches.
import type { CommandOf, CommandType } from '../../../shared/src/index.js';
import type { CommandContext } from '../util/command-context.js';
import { CommandError } from '../util/command-error.js';

export type { CommandContext };

export type CommandHandler<T extends CommandType> = (cmd: CommandOf<T>, ctx: CommandContext) => Promise<unknown>;

export { CommandError };

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
