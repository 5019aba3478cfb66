// Routes authenticated client commands to the module that owns them. Modules register their
// handlers at start-up; the WebSocket gateway only validates, de-duplicates and dispatches.
// Each handler returns its command's result type (shared/src/protocol/results.ts); COMMAND_OWNERS
// names the module answering each command type, so a new type fails to compile until it has one,
// and `missing()` lets a test prove a started daemon registered every type.
import { COMMAND_TYPES, type CommandOf, type CommandResultOf, type CommandType } from '../../../shared/src/index.js';
import type { CommandContext } from '../util/command-context.js';
import { CommandError } from '../util/command-error.js';
import { HEAVY_READ_COMMANDS, HeavyReads } from './heavy-reads.js';

export type { CommandContext };

export type CommandHandler<T extends CommandType> = (
  cmd: CommandOf<T>,
  ctx: CommandContext,
) => Promise<CommandResultOf<T>>;
/** A handler for every command type, each typed by its own command and result. */
export type CommandHandlers = { [T in CommandType]: CommandHandler<T> };

export { CommandError };

/** Which module registers each command type (the file that calls `register` for it). */
export const COMMAND_OWNERS = {
  ping: 'core-commands',
  'status.get': 'core-commands',
  'devices.list': 'core-commands',
  'device.rename': 'core-commands',
  'device.revoke': 'core-commands',
  'presence.set': 'core-commands',
  'threads.list': 'agent',
  'thread.get': 'agent',
  'thread.create': 'agent',
  'thread.send': 'agent',
  'thread.rename': 'agent',
  'thread.archive': 'agent',
  'thread.delete': 'agent',
  'thread.restore': 'agent',
  'task.cancel': 'agent',
  'task.retry': 'agent',
  'task.resume': 'agent',
  'task.answer': 'agent',
  'step.output': 'agent',
  'task.allowWebFetch': 'agent/web-commands',
  'web.set': 'agent/web-commands',
  'approval.decide': 'tools',
  'task.undo': 'tools',
  'task.changes': 'tools',
  'task.audit': 'tools',
  'task.file': 'tools',
  'task.diff': 'tools/diff',
  'push.key': 'push',
  'push.subscribe': 'push',
  'push.unsubscribe': 'push',
  'push.test': 'push',
  'push.outcomes': 'push',
  'schedules.list': 'schedules',
  'schedule.create': 'schedules',
  'schedule.update': 'schedules',
  'schedule.pause': 'schedules',
  'schedule.resume': 'schedules',
  'schedule.delete': 'schedules',
  'schedule.run': 'schedules',
  'schedule.decide': 'schedules',
  'spend.set': 'spend',
  'memory.list': 'tools/memory',
  'memory.get': 'tools/memory',
  'memory.put': 'tools/memory',
  'memory.delete': 'tools/memory',
  'memory.clear': 'tools/memory',
  'instructions.get': 'tools/memory',
  'instructions.put': 'tools/memory',
} as const satisfies Record<CommandType, string>;

export class CommandRouter {
  private handlers: Partial<CommandHandlers> = {};
  /** Commands that read whole files into memory take turns, daemon-wide (heavy-reads.ts). */
  private readonly heavyReads = new HeavyReads();

  register<T extends CommandType>(type: T, handler: CommandHandler<T>): void {
    if (this.handlers[type]) throw new Error(`command ${type} registered twice`);
    (this.handlers as Record<T, CommandHandler<T>>)[type] = handler;
  }

  has(type: CommandType): boolean {
    return this.handlers[type] !== undefined;
  }

  /** Command types no module registered (empty in a started daemon). */
  missing(): CommandType[] {
    return COMMAND_TYPES.filter((t) => !this.has(t));
  }

  /** `signal` aborts when the sender's connection closes: a heavy read still waiting for its turn is then dropped. */
  async dispatch<T extends CommandType>(
    cmd: CommandOf<T>,
    ctx: CommandContext,
    signal?: AbortSignal,
  ): Promise<CommandResultOf<T>> {
    const handler = this.handlers[cmd.type as T] as CommandHandler<T> | undefined;
    if (!handler) throw new CommandError('unavailable', `The host does not handle "${cmd.type}" yet.`);
    if (HEAVY_READ_COMMANDS.has(cmd.type)) return this.heavyReads.run(ctx.device.id, () => handler(cmd, ctx), signal);
    return handler(cmd, ctx);
  }
}
