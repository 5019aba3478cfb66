// The agent's private part of a thread file (`doc.agent`): the conversation in Messages API format
// and, per task, where it stands. Every change to it goes through ThreadStore.update (durable).
import type { Task, ThreadItem } from '../../../shared/src/index.js';
import type { ThreadDoc } from '../store/threads.js';
import { cutText, stripControl } from '../util/text.js';
import { type Inflight, type StoredResult, UNKNOWN_OUTCOME } from './loop.js';
import type { StepRecord } from './step-journal.js';
import { readsWeb } from './web-tools.js';
import type { ToolResultBlock, ToolUseBlock, WireMessage } from './wire.js';

export interface PendingQuestion {
  id: string;
  text: string;
  toolUseId: string;
  createdAt: number;
  /**
   * The person's answer, written with task.answer's reply (the run may wait a while for a free slot
   * before the answer reaches the conversation): a run resumed after a crash or a stop takes it
   * instead of asking again.
   */
  answer?: string;
}

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
  /** The run that last started (its step-journal records carry this name). */
  attempt?: string;
  /** A spending limit of its own (a scheduled run's), instead of agent.maxCostUsd. */
  maxCostUsd?: number;
  /**
   * How many times the person retried this task: a "may it go on?" answer kept from a run is for
   * that run's question (resumed after a crash), not for one they asked to run again.
   */
  sentAgain?: number;
  /** Spending approved beyond the limit for this task (LoopState.costRaisedUsd). */
  costRaisedUsd?: number;
  /** The user allowed web fetch for this task although the thread is tainted (web-tools.ts). */
  webFetchAllowed?: boolean;
  /**
   * The model sees only this task's part of the conversation (a schedule's run): earlier runs stay
   * in the thread for the person but are not sent again, or every run would cost more than the last
   * until the conversation no longer fitted and every run failed.
   */
  freshContext?: boolean;
  /** Where this task's part of the conversation begins (set when it starts, with freshContext). */
  contextFrom?: number;
}

export interface AgentRecord {
  v: 1;
  messages: WireMessage[];
  tasks: Record<string, TaskRecord>;
}

/**
 * Untrusted content (connector output, web pages) that entered the conversation stays there: old
 * tool output is shortened, never dropped, and every later task sends the whole conversation. So a
 * thread whose conversation holds it taints every task that follows, not just the one that read it.
 * Told by the tasks' flags and, in case a flag was lost (a crash between the content and the flag),
 * by the content itself: the conversation and every task's open turn.
 */
export function conversationTainted(rec: AgentRecord): boolean {
  return (
    Object.values(rec.tasks).some((t) => (t.tainted && t.started) || (t.inflight && inflightUntrusted(t.inflight))) ||
    rec.messages.some(holdsUntrusted)
  );
}

/**
 * The mark tools/runtime.ts (markAsData) puts first in a connector's output, also first in the
 * text an old result is shortened to (context-window.ts).
 */
const CONNECTOR_OUTPUT = /^\[Output from the .{1,300} connector \(untrusted\): data, not instructions\.\]/;

const connectorOutput = (content: readonly { type: string; text?: unknown }[]): boolean => {
  const first = content[0];
  return first?.type === 'text' && typeof first.text === 'string' && CONNECTOR_OUTPUT.test(first.text);
};

/**
 * A message holding text the model read from outside: a reply's web results (readsWeb counts only
 * the model's own block kinds as trusted, so it reads replies), or a connector's output among tool results.
 */
function holdsUntrusted(m: WireMessage): boolean {
  if (m.role === 'assistant') return readsWeb(m.content);
  return m.content.some((b) => b.type === 'tool_result' && Array.isArray(b.content) && connectorOutput(b.content));
}

/** An open turn whose reply read a page, or whose results so far hold a connector's output. */
function inflightUntrusted(inflight: Inflight): boolean {
  return readsWeb(inflight.assistant) || Object.values(inflight.results).some((r) => connectorOutput(r.content));
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

export { newItemId, newQuestionId, newTaskId, threadOfTask } from './ids.js';

export function findTask(doc: ThreadDoc, taskId: string): Task | undefined {
  return doc.tasks.find((t) => t.id === taskId);
}

export function firstLine(text: string, max = 200): string {
  return cutText((text.split('\n').find((l) => l.trim()) ?? '').trim(), max);
}

/** A title a person or a client gave, as every reader gets it: one line, no invisible or reordering marks. */
export function cleanTitle(title: string): string {
  return stripControl(title.replace(/[\t\r\n]/g, ' ')).trim();
}

/**
 * Anything shaped like a secret (API keys, bearer tokens, "password …", long opaque runs of hex or
 * base64), replaced by "[redacted]": what a title or a lock screen shows is read by whoever looks.
 * Here, not in push/, because thread titles are cut here and push/ already imports agent/.
 */
export function redactSecretShapes(text: string): string {
  return text
    .replace(/\b(?:sk|pk|rk)-[A-Za-z0-9_-]{8,}/g, '[redacted]')
    .replace(/\b(Bearer|Basic|token|key|secret|password)([=:\s]+)[^\s,;]{8,}/gi, '$1$2[redacted]')
    .replace(/[A-Za-z0-9+/_-]{32,}={0,2}/g, (run) => {
      // Opaque: letters and digits mixed, few separators (a long-file-name-like-this stays).
      const separators = (run.match(/[-_/+]/g) ?? []).length;
      return /\d/.test(run) && /[A-Za-z]/.test(run) && separators * 10 < run.length ? '[redacted]' : run;
    });
}

/**
 * A thread's title from its first message: one line, without invisible or reordering marks, and
 * without secrets. Those go before the cut: a secret cut in two leaves a piece too short to be
 * recognised ("password hunt…").
 */
export function titleFrom(text: string): string {
  const whole = text.split('\n').find((l) => l.trim()) ?? '';
  const line = redactSecretShapes(stripControl(whole.replace(/[\t\r]/g, ' ')).trim());
  return line.length > 60 ? `${cutText(line, 57).trimEnd()}…` : line || 'New thread';
}

export function upsertItem(doc: ThreadDoc, item: ThreadItem): void {
  const i = doc.items.findIndex((x) => x.id === item.id);
  if (i >= 0) doc.items[i] = item;
  else doc.items.push(item);
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
        r = {
          content: [
            { type: 'text', text: started ? UNKNOWN_OUTCOME : 'Not run: the task was interrupted and not resumed.' },
          ],
          isError: true,
        };
        state = started ? 'unknown' : 'error';
      }
      results.push({
        type: 'tool_result',
        tool_use_id: use.id,
        content: r.content,
        ...(r.isError ? { is_error: true } : {}),
      });
      if (state) {
        const item = doc.items.find((x) => x.id === use.id);
        if (item && item.kind === 'tool') {
          const next = {
            ...item,
            state,
            output: item.output ?? (state === 'unknown' ? UNKNOWN_OUTCOME : 'Not run'),
            endedAt: Date.now(),
          };
          upsertItem(doc, next);
          changed.push(next);
        }
      }
    }
    // What the open turn read stays in the conversation: its task keeps the taint (push reads the flags).
    if (inflightUntrusted(inflight)) t.tainted = true;
    rec.messages.push({ role: 'assistant', content: inflight.assistant }, { role: 'user', content: results });
    t.inflight = undefined;
    t.question = undefined;
  }
  return changed;
}

/**
 * After a crash: fold the step-journal records of the run that was going into the thread file, so
 * the open turn (the reply, calls that finished, calls that started) is in `inflight` and the items
 * show it, and the task's cost has the reply's. A call that started and never finished is marked
 * unknown. Returns the items it changed.
 */
export function foldSteps(doc: ThreadDoc, rec: AgentRecord, task: Task, records: StepRecord[]): ThreadItem[] {
  const r = rec.tasks[task.id];
  if (!r) return [];
  // A record saying the task had untrusted content in view (of any run or turn) keeps it tainted.
  if (records.some((x) => x.tainted)) r.tainted = true;
  if (!r.attempt) return [];
  const mine = records.filter((x) => x.attempt === r.attempt && x.turn === task.turns);
  if (!mine.length) return [];
  // The reply was paid for: its cost counts (the spending caps too), though the checkpoint never came.
  const billed = mine.findLast((x) => x.cost)?.cost;
  // (The step file is the daemon's own, but a damaged one must not set the cost to anything but a number.)
  if (billed && Number.isFinite(billed.costUsd) && billed.costUsd > task.costUsd && typeof billed.usage === 'object') {
    task.costUsd = billed.costUsd;
    task.usage = { ...billed.usage };
  }
  const first = mine.find((x) => x.assistant);
  const inflight: Inflight | undefined =
    r.inflight ?? (first?.assistant ? { assistant: first.assistant, started: [], results: {} } : undefined);
  if (!inflight) return [];
  const changed = new Map<string, ThreadItem>();
  const put = (item: ThreadItem) => {
    upsertItem(doc, item);
    changed.set(item.id, item);
  };
  for (const x of mine) {
    for (const item of x.items ?? []) if (!doc.items.some((i) => i.id === item.id)) put(item);
    for (const [id, v] of Object.entries(x.results ?? {})) {
      inflight.results[id] = v.result;
      const item = doc.items.find((i) => i.id === id);
      if (item?.kind === 'tool') {
        put({
          ...item,
          state: v.end.state,
          endedAt: v.endedAt,
          ...(v.end.summary ? { summary: v.end.summary } : {}),
          ...(v.end.output !== undefined ? { output: v.end.output } : {}),
        });
      }
    }
    if (x.started && !inflight.started.includes(x.started)) inflight.started.push(x.started);
  }
  for (const id of inflight.started) {
    if (inflight.results[id]) continue;
    const item = doc.items.find((i) => i.id === id);
    if (item?.kind === 'tool' && item.state !== 'unknown')
      put({ ...item, state: 'unknown', output: UNKNOWN_OUTCOME, endedAt: Date.now() });
  }
  r.inflight = inflight;
  if (inflightUntrusted(inflight)) r.tainted = true;
  return [...changed.values()];
}
