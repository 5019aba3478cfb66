// Daemon → client events. Each is persisted with a per-host sequence number before it is sent.
import { z } from 'zod';
import {
  Approval,
  ChangeEntry,
  ConnectorStatus,
  Device,
  HostStatus,
  Id,
  PushOutcome,
  Question,
  Task,
  ThreadItem,
  ThreadSummary,
  Timestamp,
} from './entities.js';
import { ScheduleEvents } from './schedules.js';

export const ServerEvent = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('thread.updated'), thread: ThreadSummary }),
  z.object({ kind: z.literal('item.added'), threadId: Id, item: ThreadItem }),
  z.object({ kind: z.literal('item.updated'), threadId: Id, item: ThreadItem }),
  /** Streaming assistant text, coalesced: `delta` is appended to item `itemId`. */
  z.object({ kind: z.literal('item.delta'), threadId: Id, taskId: Id, itemId: Id, delta: z.string() }),
  z.object({ kind: z.literal('task.updated'), task: Task }),
  z.object({ kind: z.literal('approval.requested'), approval: Approval }),
  z.object({ kind: z.literal('approval.resolved'), approval: Approval }),
  z.object({ kind: z.literal('question.asked'), question: Question }),
  z.object({ kind: z.literal('question.answered'), questionId: Id, taskId: Id }),
  /**
   * A task's change list changed. `changes` is the whole list while it is short. A longer one is
   * left out (`changes` empty, `omitted: true`): sent again after every step, it would fill the
   * event log every device replays. The client then fetches it with task.changes. `count` is the
   * list's length (older events lack it).
   */
  z.object({
    kind: z.literal('changes.updated'),
    taskId: Id,
    changes: z.array(ChangeEntry),
    count: z.number().int().nonnegative().optional(),
    omitted: z.literal(true).optional(),
  }),
  z.object({ kind: z.literal('device.updated'), device: Device }),
  z.object({ kind: z.literal('device.revoked'), deviceId: Id }),
  z.object({ kind: z.literal('connector.updated'), connector: ConnectorStatus }),
  z.object({ kind: z.literal('host.updated'), status: HostStatus }),
  z.object({ kind: z.literal('push.outcome'), outcome: PushOutcome }),
  z.object({ kind: z.literal('notice'), level: z.enum(['info', 'warning', 'error']), text: z.string(), at: Timestamp }),
  ...ScheduleEvents,
]);
export type ServerEvent = z.infer<typeof ServerEvent>;
export type EventKind = ServerEvent['kind'];
