// Loaded lazily (zod and the protocol schemas are most of the app's weight): validates every frame
// and every command result before the app believes it.
import {
  Approval, ChangeEntry, Device, FileView, HostStatus, PushOutcome, Question, ServerFrame, Task, ThreadItem,
  ThreadSummary, UploadResponse, PairClaimResponse,
} from '../../../shared/src/index.js';
import { z } from 'zod';

export { ServerFrame, PairClaimResponse, UploadResponse };

export const results = {
  'threads.list': z.array(ThreadSummary),
  'thread.get': z.object({
    thread: ThreadSummary, items: z.array(ThreadItem), tasks: z.array(Task), approvals: z.array(Approval), questions: z.array(Question),
  }),
  'thread.create': z.object({ thread: ThreadSummary, task: Task }),
  'thread.send': z.object({ task: Task, item: ThreadItem }),
  'task.changes': z.array(ChangeEntry),
  'task.file': FileView,
  'status.get': HostStatus,
  'devices.list': z.array(Device),
  'push.key': z.object({ publicKey: z.string() }),
  'push.outcomes': z.array(PushOutcome),
} as const;

export type ResultSchemas = typeof results;
