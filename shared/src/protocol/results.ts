// What the daemon answers to each client command (the `result` of its `reply` frame), one schema per
// command type. The daemon's handlers are typed by these; the phone validates every reply with them.
import { z } from 'zod';
import type { CommandType } from './commands.js';
import { TaskDiffResult } from './diff.js';
import {
  Approval,
  AuditEntry,
  ChangeEntry,
  Device,
  FileView,
  HostStatus,
  Id,
  PushOutcome,
  Question,
  Task,
  ThreadItem,
  ThreadSummary,
  Timestamp,
} from './entities.js';
import { MemoryEntry, MemoryListResult, MemoryNote } from './memory.js';
import { Schedule } from './schedules.js';

const ThreadResult = z.object({ thread: ThreadSummary });
const TaskResult = z.object({ task: Task });
const ScheduleResult = z.object({ schedule: Schedule });
const TextResult = z.object({ text: z.string() });

/** The reply to thread.get: a thread's whole visible history and what is open in it. */
export const ThreadDetailResult = z.object({
  thread: ThreadSummary,
  items: z.array(ThreadItem),
  tasks: z.array(Task),
  approvals: z.array(Approval),
  questions: z.array(Question),
});
export type ThreadDetailResult = z.infer<typeof ThreadDetailResult>;

/** The reply to task.undo. */
export const UndoResult = z.object({
  restored: z.array(z.string()),
  /** Paths left alone, with the reason (changed since the task, or an error). */
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })),
});
export type UndoResult = z.infer<typeof UndoResult>;

/** The reply to push.key. */
export const PushKeyResult = z.object({
  publicKey: z.string(),
  subscription: z.enum(['none', 'current', 'stale']).optional(),
  subjectProblem: z.string().max(300).optional(),
});
export type PushKeyResult = z.infer<typeof PushKeyResult>;

/** Every command type's result. A missing or extra command type fails to compile. */
export const CommandResults = {
  ping: z.object({ pong: Timestamp }),
  'status.get': HostStatus,
  'threads.list': z.array(ThreadSummary),
  'thread.get': ThreadDetailResult,
  'thread.create': z.object({ thread: ThreadSummary, task: Task }),
  'thread.send': z.object({ task: Task, item: ThreadItem }),
  'thread.rename': ThreadResult,
  'thread.archive': ThreadResult,
  'thread.delete': ThreadResult,
  'thread.restore': ThreadResult,
  'task.cancel': TaskResult,
  'task.retry': TaskResult,
  'task.resume': TaskResult,
  'task.answer': TaskResult,
  'task.undo': UndoResult,
  'task.changes': z.object({ changes: z.array(ChangeEntry) }),
  'task.file': z.object({ file: FileView }),
  'task.diff': TaskDiffResult,
  'step.output': TextResult,
  'task.audit': z.object({ entries: z.array(AuditEntry) }),
  'task.allowWebFetch': TaskResult,
  'web.set': z.object({ web: HostStatus.shape.web }),
  'approval.decide': z.object({ approval: Approval }),
  'devices.list': z.array(Device),
  'device.rename': Device,
  'device.revoke': z.object({ revoked: Id }),
  'presence.set': z.null(),
  'push.key': PushKeyResult,
  'push.subscribe': z.object({ subscribed: z.literal(true), service: z.string() }),
  'push.unsubscribe': z.object({ unsubscribed: z.boolean() }),
  'push.test': PushOutcome,
  'push.outcomes': z.array(PushOutcome),
  'schedules.list': z.object({ schedules: z.array(Schedule) }),
  'schedule.create': ScheduleResult,
  'schedule.update': ScheduleResult,
  'schedule.pause': ScheduleResult,
  'schedule.resume': ScheduleResult,
  'schedule.delete': z.object({ removed: Id }),
  'schedule.run': z.object({ schedule: Schedule, taskId: Id, threadId: Id }),
  'schedule.decide': ScheduleResult,
  'spend.set': z.object({ spend: HostStatus.shape.spend }),
  'memory.list': MemoryListResult,
  'memory.get': MemoryNote,
  'memory.put': z.object({ entry: MemoryEntry }),
  'memory.delete': z.object({}),
  'memory.clear': z.object({ removed: z.number().int().nonnegative() }),
  'instructions.get': TextResult,
  'instructions.put': TextResult,
} as const satisfies { [T in CommandType]: z.ZodType };

export type CommandResults = typeof CommandResults;
/** The result the daemon answers to a command of type T. */
export type CommandResultOf<T extends CommandType> = z.infer<CommandResults[T]>;
/** Every command type, in the order above (for checks that each is handled and documented). */
export const COMMAND_TYPES = Object.keys(CommandResults) as CommandType[];
