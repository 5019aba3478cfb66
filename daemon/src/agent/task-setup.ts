// A new task: the user's message and its queued task, added to a thread in one change. Every way a
// task starts (a new thread, a message in a thread, a schedule's run) goes through here.
import type { Task, ThreadItem } from '../../../shared/src/index.js';
import type { ThreadDoc } from '../store/threads.js';
import type { Landed } from './attachments.js';
import { emptyUsage } from './pricing.js';
import { type AgentRecord, newItemId, newTaskId } from './records.js';
import type { WireMessage } from './wire.js';

export interface NewTask {
  text: string;
  /** The message that starts the conversation's part of the task (text, attachments, images). */
  start: WireMessage;
  landed: Landed[];
  maxCostUsd?: number;
  /** The text came from untrusted content (a schedule a tainted task made). */
  untrusted?: boolean;
  /** The model sees only this task's conversation (records.ts TaskRecord.freshContext). */
  freshContext?: boolean;
}

/** Add the message and its queued task to `doc` (inside a thread change). */
export function addQueuedTask(doc: ThreadDoc, rec: AgentRecord, m: NewTask): { task: Task; item: ThreadItem } {
  const now = Date.now();
  const taskId = newTaskId(doc.meta.id);
  const item: ThreadItem = {
    kind: 'user',
    id: newItemId('msg'),
    taskId,
    text: m.text,
    createdAt: now,
    ...(m.landed.length ? { attachments: m.landed.map((l) => l.attachment) } : {}),
  };
  const task: Task = {
    id: taskId,
    threadId: doc.meta.id,
    state: 'queued',
    messageId: item.id,
    createdAt: now,
    turns: 0,
    usage: emptyUsage(),
    costUsd: 0,
  };
  doc.items.push(item);
  doc.tasks.push(task);
  rec.tasks[taskId] = {
    start: m.start,
    started: false,
    ...(m.maxCostUsd ? { maxCostUsd: m.maxCostUsd } : {}),
    ...(m.freshContext ? { freshContext: true } : {}),
    // Files received from outside are untrusted content, like web pages and connector output; so is
    // text a tainted task wrote (a schedule's).
    ...(m.landed.length || m.untrusted ? { tainted: true } : {}),
  };
  return { task: { ...task }, item };
}
