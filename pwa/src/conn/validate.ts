// Loaded lazily (zod and the protocol schemas are most of the app's weight): validates every frame
// and every command result before the app believes it.
import './zod-config.js';
import { z } from 'zod';
import {
  Approval,
  ChangeEntry,
  Device,
  FileView,
  HostStatus,
  PairClaimResponse,
  PushOutcome,
  Question,
  ServerFrame,
  Task,
  ThreadItem,
  ThreadSummary,
  UploadResponse,
} from '../../../shared/src/index.js';

export { PairClaimResponse, ServerFrame, UploadResponse };

export const results = {
  'threads.list': z.array(ThreadSummary),
  'thread.get': z.object({
    thread: ThreadSummary,
    items: z.array(ThreadItem),
    tasks: z.array(Task),
    approvals: z.array(Approval),
    questions: z.array(Question),
  }),
  'thread.create': z.object({ thread: ThreadSummary, task: Task }),
  'thread.send': z.object({ task: Task, item: ThreadItem }),
  // The host wraps these ({changes}, {file}); a bare array / view is accepted too.
  'task.changes': z.union([
    z.array(ChangeEntry),
    z.object({ changes: z.array(ChangeEntry) }).transform((r) => r.changes),
  ]),
  'task.file': z.union([FileView, z.object({ file: FileView }).transform((r) => r.file)]),
  'status.get': HostStatus,
  'devices.list': z.array(Device),
  'push.key': z.object({
    publicKey: z.string(),
    subscription: z.enum(['none', 'current', 'stale']).optional(),
    subjectProblem: z.string().max(300).optional(),
  }),
  'push.outcomes': z.array(PushOutcome),
  'step.output': z.object({ text: z.string() }),
} as const;

export type ResultSchemas = typeof results;
