// A long finished thread for tests: `count` tasks, each a question and a short Markdown answer.
import type { Task, ThreadItem } from '../../../shared/src/index.js';

export function finishedHistory(threadId: string, count: number): { items: ThreadItem[]; tasks: Task[] } {
  const items: ThreadItem[] = [];
  const tasks: Task[] = [];
  const t0 = Date.now() - count * 60_000;
  for (let i = 0; i < count; i++) {
    const taskId = `task${i}`;
    const at = t0 + i * 60_000;
    items.push({ kind: 'user', id: `u${i}`, taskId, text: `Question number ${i}`, createdAt: at });
    items.push({ kind: 'assistant', id: `a${i}`, taskId, text: `Answer number ${i}, **done**.`, createdAt: at + 1 });
    tasks.push({
      id: taskId,
      threadId,
      state: 'done',
      messageId: `u${i}`,
      createdAt: at,
      startedAt: at,
      endedAt: at + 2,
      turns: 1,
      usage: { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 },
      costUsd: 0.001,
    });
  }
  return { items, tasks };
}
