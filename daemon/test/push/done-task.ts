// A task that has just finished, as the agent leaves it: what push tests announce.
import type { Task } from '../../../shared/src/index.js';

export const doneTask = (over: Partial<Task> = {}): Task => ({
  id: `tsk_${Math.random().toString(36).slice(2)}`,
  threadId: 'thr_1',
  state: 'done',
  messageId: 'msg_1',
  createdAt: Date.now(),
  endedAt: Date.now(),
  turns: 1,
  usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
  costUsd: 0,
  ...over,
});
