// The shape of one thread as the store holds it: its meta, its items and tasks, and the agent's private
// state. Shared by the thread store and the deltas that change it.
import { z } from 'zod';
import { Task, ThreadItem, ThreadState } from '../../../shared/src/index.js';

export const ThreadMeta = z.object({
  id: z.string(),
  title: z.string(),
  state: ThreadState,
  createdAt: z.number(),
  updatedAt: z.number(),
});
export type ThreadMeta = z.infer<typeof ThreadMeta>;

export const ThreadDocSchema = z.object({
  schema: z.literal(1),
  meta: ThreadMeta,
  items: z.array(ThreadItem),
  tasks: z.array(Task),
  /** State private to the agent (conversation in the Messages API format, checkpoints). */
  agent: z.record(z.string(), z.unknown()),
});
export type ThreadDoc = z.infer<typeof ThreadDocSchema>;
