import type { Task, TaskState, Usage } from '../../../shared/src/index.js';

export { timeAgo } from '../../../shared/src/words.js';

export function shortTime(at: number, now = Date.now()): string {
  const d = new Date(at);
  const n = new Date(now);
  if (d.toDateString() === n.toDateString()) return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return d.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

export const STATE_LABEL: Record<TaskState, string> = {
  queued: 'Queued',
  running: 'Running',
  waiting: 'Waiting for you',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
  interrupted: 'Interrupted',
};

/** A token count in a few characters: "950", "9.9k", "12k", "1.2M". */
export function compact(n: number): string {
  if (n < 1000) return String(n);
  // Rounded first, then the unit picked: 9,960 is "10k", not "10.0k"; 999,600 is "1.0M", not "1000k".
  const tenthsOfK = Math.round(n / 100) / 10;
  if (tenthsOfK < 10) return `${tenthsOfK.toFixed(1)}k`;
  const k = Math.round(n / 1000);
  if (k < 1000) return `${k}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

export function usageLine(task: Pick<Task, 'usage' | 'costUsd' | 'turns'>): string {
  const u: Usage = task.usage;
  const cached = u.cacheReadTokens + u.cacheWriteTokens;
  const parts = [`${compact(u.inputTokens)} in`, `${compact(u.outputTokens)} out`];
  if (cached) parts.push(`${compact(cached)} cached`);
  const cost = task.costUsd < 0.01 && task.costUsd > 0 ? '<$0.01' : `$${task.costUsd.toFixed(2)}`;
  return `${parts.join(' · ')} tokens · ${cost}`;
}

export function countdown(ms: number): string {
  if (ms <= 0) return 'expired';
  const s = Math.ceil(ms / 1000);
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, '0')}`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
