// The types the agent loop shares with the model call and the runner: the conversation state, the
// events the loop reports and the hooks it asks the person through, its settings, budgets and
// result. Kept apart so model-call.ts and loop.ts do not import each other.
import type { ToolStepState, Usage } from '../../../shared/src/index.js';
import type { Failure } from './retry.js';
import type { WebStep } from './web-tools.js';
import type { ImageBlock, TextBlock, WireBlock, WireMessage } from './wire.js';

export interface Budgets {
  maxTurns: number;
  maxOutputTokens: number;
  maxWallMs: number;
  /** Infinity: no limit (agent.maxCostUsd is null). */
  maxCostUsd: number;
  /**
   * The limit as it is now, read before each model call: a limit the person lowers (or raises)
   * while the task runs applies at once. Without it, maxCostUsd holds for the whole run.
   */
  currentMaxCostUsd?: () => number;
  /** Where the cost limit comes from, for the stop reason (default agent.maxCostUsd). */
  costLimitName?: string;
}

export interface LoopSettings {
  model: string;
  /** Secrets held in clear (the API key): kept out of model error text. */
  secrets?: string[];
  maxTokens: number;
  contextTokens: number;
  /** Total time model calls of one turn may spend retrying. */
  retryWindowMs: number;
  /** First backoff step; doubles per attempt. */
  retryBaseMs: number;
  /** An attempt with no stream event for this long is abandoned and retried. Default 180 s. */
  stallMs?: number;
  /** Extended thinking with this budget (tokens); absent: off. */
  thinkingBudget?: number;
  /** Ask the API to clear old tool uses near the window (context management beta). */
  contextManagement?: boolean;
}

export interface StoredResult {
  content: Array<TextBlock | ImageBlock>;
  isError: boolean;
}

/** A turn whose reply is in but whose tool results are not all in yet. */
export interface Inflight {
  assistant: WireBlock[];
  /** tool_use ids whose run has started (durably recorded before the run). */
  started: string[];
  results: Record<string, StoredResult>;
}

export interface LoopState {
  /** The thread's whole conversation, committed turns only. */
  messages: WireMessage[];
  inflight?: Inflight;
  turns: number;
  usage: Usage;
  /** The task's cost over all its runs. */
  costUsd: number;
  /**
   * Spending the person approved for this task beyond its limit ("continue for +$5"), kept with the
   * task so a resume, a restart or a retry counts on from the task's whole cost, never afresh.
   */
  costRaisedUsd?: number;
  tainted: boolean;
  /** How many times the person retried the task (TaskRecord.sentAgain). */
  sentAgain?: number;
}

export interface ToolStep {
  id: string;
  name: string;
  input: unknown;
  summary: string;
}
export interface StepEnd {
  state: ToolStepState;
  summary?: string;
  output?: string;
}

/**
 * What the loop reports, in order, through one `emit`. The loop awaits the promise `emit` returns
 * where order against durability matters (tool.started is durable before the call runs; checkpoint
 * is durable before the next model call). Events carry the data they are about (no back-reference
 * to the loop's state).
 */
export type LoopEvent =
  /** A text block starts streaming as thread item `itemId`. */
  | { type: 'text.started'; itemId: string }
  | { type: 'text.delta'; itemId: string; delta: string }
  /** A text block ended: its full text is kept with the run's next durable write. */
  | { type: 'text.ended'; itemId: string; text: string; sources?: Array<{ title: string; url: string }> }
  /** A retried attempt starts over: the item's text is cleared and will stream again. */
  | { type: 'text.reset'; itemId: string }
  /** A thinking block ended: its summary text (empty when redacted) and how long it streamed. */
  | { type: 'thought'; summary: string; redacted: boolean; ms: number }
  /** The reply asked for these tools; `inflight` is the open turn; `spent`: the task's cost with this reply. */
  | { type: 'tools.planned'; steps: ToolStep[]; inflight: Inflight; spent: { usage: Usage; costUsd: number } }
  /**
   * Durable before the call runs, unless `readOnly` (no side effect: a read run again after a crash
   * is harmless, so it waits for the turn's checkpoint); `turn` = committed turns.
   */
  | { type: 'tool.started'; step: ToolStep; turn: number; readOnly?: boolean }
  /** `inflight.results` has the call's result. */
  | { type: 'tool.finished'; step: ToolStep; end: StepEnd; inflight: Inflight; tainted: boolean }
  /** A running tool says what it is doing now. */
  | { type: 'tool.described'; step: ToolStep; summary: string }
  /** The turn is committed: the conversation as it stands now. Durable. */
  | { type: 'checkpoint'; state: LoopState }
  /** Usage or turns changed. */
  | { type: 'usage'; turns: number; usage: Usage; costUsd: number }
  /** A model call failed and is tried again after `delayMs`; one per failed attempt. */
  | { type: 'retrying'; failure: Failure; delayMs: number }
  /** Something the user should know about the run (shown in the thread). */
  | { type: 'notice'; text: string }
  /** A server tool (web search / fetch) finished at the API: show it as a step. */
  | { type: 'web.step'; step: WebStep };

export type Emit = (event: LoopEvent) => void | Promise<void>;

/** Where the loop waits for a person. */
export interface LoopHooks {
  /** Ask the user (the ask_user tool); resolves with the answer, rejects when the task is aborted. */
  ask(question: string, step: ToolStep, signal: AbortSignal): Promise<string>;
  /** The task waits for a person (true: its slot goes to other work) or goes on (false). */
  setWaiting(waiting: boolean): Promise<void>;
}

/** A copy of the conversation state as it is now (a checkpoint's content). */
export function snapshot(state: LoopState): LoopState {
  return {
    // Committed turns are never changed again (except old tool output being shortened, which
    // should be kept too), so a shallow copy is enough.
    messages: [...state.messages],
    inflight: state.inflight ? structuredClone(state.inflight) : undefined,
    turns: state.turns,
    usage: { ...state.usage },
    costUsd: state.costUsd,
    ...(state.costRaisedUsd ? { costRaisedUsd: state.costRaisedUsd } : {}),
    tainted: state.tainted,
  };
}

export type AbortWhy = 'cancel' | 'shutdown';

export type LoopResult =
  | { kind: 'done'; text: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'aborted'; why: AbortWhy };
