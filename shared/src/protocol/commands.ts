// Client → daemon commands. Every command carries a client-chosen `id`; the daemon answers each
// with a `reply` frame of the same id. Re-sending an id has the effect of sending it once.
import { z } from 'zod';
import { cmd } from './command-shape.js';
import { DiffCommands } from './diff.js';
import { Id } from './entities.js';
import { MEMORY_MUTATING, MemoryCommands } from './memory.js';
import { SCHEDULE_MUTATING, ScheduleCommands } from './schedules.js';

export const MAX_TEXT = 100_000;
const Text = z.string().max(MAX_TEXT);
const Name = z.string().trim().min(1).max(80);

export const PushSubscriptionInput = z.object({
  endpoint: z.string().max(2048),
  expirationTime: z.number().nullable().optional(),
  keys: z.object({ p256dh: z.string().max(256), auth: z.string().max(64) }),
});
export type PushSubscriptionInput = z.infer<typeof PushSubscriptionInput>;

export const ClientCommand = z.discriminatedUnion('type', [
  cmd('ping', {}),
  cmd('status.get', {}),
  // threads
  cmd('threads.list', { includeArchived: z.boolean().optional() }),
  cmd('thread.get', { threadId: Id }),
  cmd('thread.create', { text: Text.min(1), title: Name.optional(), attachmentIds: z.array(Id).max(20).optional() }),
  cmd('thread.send', { threadId: Id, text: Text.min(1), attachmentIds: z.array(Id).max(20).optional() }),
  cmd('thread.rename', { threadId: Id, title: Name }),
  cmd('thread.archive', { threadId: Id }),
  cmd('thread.delete', { threadId: Id }),
  cmd('thread.restore', { threadId: Id }),
  // tasks
  cmd('task.cancel', { taskId: Id }),
  cmd('task.retry', { taskId: Id }),
  cmd('task.resume', { taskId: Id }),
  cmd('task.answer', { taskId: Id, questionId: Id, text: Text.min(1) }),
  cmd('task.undo', { taskId: Id }),
  cmd('task.changes', { taskId: Id }),
  cmd('task.file', { taskId: Id, path: z.string().min(1).max(4096) }),
  // task.diff (diff.ts)
  ...DiffCommands,
  cmd('step.output', { threadId: Id, stepId: Id }),
  cmd('task.audit', { taskId: Id }),
  /** Let this task use web fetch although its thread read untrusted content (web-tools.ts). */
  cmd('task.allowWebFetch', { taskId: Id }),
  /** The API's web tools, on or off (config web.search / web.fetch). */
  cmd('web.set', { search: z.boolean().optional(), fetch: z.boolean().optional() }),
  // approvals
  cmd('approval.decide', {
    approvalId: Id,
    hash: z.string().min(1).max(128),
    decision: z.enum(['approve', 'deny', 'allow_task']),
    /** With `deny` only: what the agent should do instead, in the person's words (the message box while an approval waits). */
    note: z.string().trim().min(1).max(4000).optional(),
  }),
  // devices
  cmd('devices.list', {}),
  cmd('device.rename', { deviceId: Id, name: Name }),
  cmd('device.revoke', { deviceId: Id }),
  // presence, for push suppression: which thread this device shows in the foreground right now
  cmd('presence.set', { threadId: Id.nullable(), foreground: z.boolean() }),
  // push
  /** `endpoint`: this browser's current subscription, so the reply says whether the computer holds that one. */
  cmd('push.key', { endpoint: z.string().max(2048).optional() }),
  cmd('push.subscribe', { subscription: PushSubscriptionInput }),
  cmd('push.unsubscribe', {}),
  cmd('push.test', {}),
  cmd('push.outcomes', {}),
  // schedules (schedules.ts)
  ...ScheduleCommands,
  // memory and personal instructions (memory.ts)
  ...MemoryCommands,
]);
export type ClientCommand = z.infer<typeof ClientCommand>;
export type CommandType = ClientCommand['type'];
export type CommandOf<T extends CommandType> = Extract<ClientCommand, { type: T }>;

/** Commands that change state: their replies are remembered durably so a re-sent id is not re-run. */
export const MUTATING_COMMANDS: ReadonlySet<CommandType> = new Set<CommandType>([
  'thread.create',
  'thread.send',
  'thread.rename',
  'thread.archive',
  'thread.delete',
  'thread.restore',
  'task.cancel',
  'task.retry',
  'task.resume',
  'task.answer',
  'task.undo',
  'task.allowWebFetch',
  'web.set',
  'approval.decide',
  'device.rename',
  'device.revoke',
  'push.subscribe',
  'push.unsubscribe',
  'push.test',
  ...SCHEDULE_MUTATING,
  ...MEMORY_MUTATING,
]);

export const ErrorCode = z.enum([
  'bad_request',
  'unknown_command',
  'not_found',
  'conflict',
  'forbidden',
  'rate_limited',
  'unavailable',
  'too_large',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;
