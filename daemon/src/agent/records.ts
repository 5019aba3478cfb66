// The agent's private part of a thread file (`doc.agent`): the conversation in Messages API format
// and, per task, where it stands. Every change to it goes through ThreadStore.update (durable).
import crypto from 'node:crypto';
import type { Task, ThreadItem } from '../../../shared/src/index.js';
import type { ThreadDoc } from '../store/threads.js';
import { UNKNOWN_OUTCOME, type Inflight, type StoredResult } from './loop.js';
import type { ToolResultBlock, ToolUseBlock, WireMessage } from './wire.js';

export interface PendingQuestion { id: string; text: string; toolUseId: string; createdAt: number }

export interface TaskRecord {
  /** The user message that starts the task (text, attachment paths, images). */
  start: WireMessage;
  /** The start message is in the conversation. */
  started: boolean;
  inflight?: Inflight;
  tainted?: boolean;
  question?: PendingQuestion;
  /** Interrupted by a clean stop: resume on the next start when agent.autoResume is on. */
  autoResume?: boolean;
}

export interface AgentRecord {
  v: 1;
  messages: WireMessage[];
  tasks: Record<string, TaskRecord>;
}

export function agentRecord(doc: ThreadDoc): AgentRecord {
  const a = doc.agent as Partial<AgentRecord>;
  if (a.v !== 1) {
    a.v = 1;
    a.messages = [];
    a.tasks = {};
  }
  a.messages ??= [];
  a.tasks ??= {};
  return a as AgentRecord;
}

const rand = (n = 9) => crypto.randomBytes(n).toString('base64url');

/** Task ids carry their thread id, so a command naming a task finds its thread without a search. */
export const newTaskId = (threadId: string) => `${threadId}.t${rand()}`;
export const threadOfTask = (taskId: string): string => taskId.split('.')[0] ?? '';
export const newItemId = (prefix: 'msg' | 'itm' | 'ntc') => `${prefix}_${rand()}`;
export const newQuestionId = () => `q_${rand()}`;

export function findTask(doc: ThreadDoc, taskId: string): Task | undefined {
  return doc.tasks.find((t) => t.id === taskId);
}

export function firstLine(text: string, max = 200): string {
  return (text.split('\n').find((l) => l.trim()) ?? '').trim().slice(0, max);
}

export function titleFrom(text: string): string {
  const line = firstLine(text, 200);
  return line.length > 60 ? `${line.slice(0, 57).trimEnd()}…` : line || 'New thread';
}

export function upsertItem(doc: ThreadDoc, item: ThreadItem): void {
  const i = doc.items.findIndex((x) => x.id === item.id);
  if (i >= 0) doc.items[i] = item; else doc.items.push(item);
}

/**
 * Another task is about to continue this conversation: close any turn an interrupted task left open,
 * so the history stays valid. Calls that started are reported as outcome unknown, others as not run.
 * Returns the thread items it changed.
 */
export function settleOpenTurns(doc: ThreadDoc, rec: AgentRecord, exceptTaskId: string): ThreadItem[] {
  const changed: ThreadItem[] = [];
  for (const [taskId, t] of Object.entries(rec.tasks)) {
    if (taskId === exceptTaskId || !t.inflight) continue;
    const inflight = t.inflight;
    const results: ToolResultBlock[] = [];
    for (const b of inflight.assistant) {
      if (b.type !== 'tool_use') continue;
      const use = b as ToolUseBlock;
      let r: StoredResult | undefined = inflight.results[use.id];
      let state: 'unknown' | 'error' | undefined;
      if (!r) {
        const started = inflight.started.includes(use.id);
        r = { content: [{ type: 'text', text: started ? UNKNOWN_OUTCOME : 'Not run: the task was interrupted and not resumed.' }], isError: true };
        state = started ? 'unknown' : 'error';
      }
      results.push({ type: 'tool_result', tool_use_id: use.id, content: r.content, ...(r.isError ? { is_error: true } : {}) });
      if (state) {
        const item = doc.items.find((x) => x.id === use.id);
        if (item && item.kind === 'tool') {
          const next = { ...item, state, output: item.output ?? (state === 'unknown' ? UNKNOWN_OUTCOME : 'Not run'), endedAt: Date.now() };
          upsertItem(doc, next);
          changed.push(next);
        }
      }
    }
    rec.messages.push({ role: 'assistant', content: inflight.assistant }, { role: 'user', content: results });
    t.inflight = undefined;
    t.question = undefined;
  }
  return changed;
}
