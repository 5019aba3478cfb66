// The types the agent loop shares with the model call and the runner: the conversation state, the
// sink the loop reports through, its settings, budgets and result. Kept apart so model-call.ts and
// loop.ts do not import each other.
import type { ToolStepState, Usage } from '../../../shared/src/index.js';
import type { Failure } from './retry.js';
import type { WebStep } from './web-tools.js';
import type { ImageBlock, TextBlock, WireBlock, WireMessage } from './wire.js';

export interface Budgets {
  maxTurns: number;
  maxOutputTokens: number;
  maxWallMs: number;
  maxCostUsd: number;
  /** Where the cost limit comes from, for the stop reason (default agent.maxCostUsd). */
  costLimitName?: string;
}

export interface LoopSettings {
  model: string;
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
  costUsd: number;
  tainted: boolean;
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

export interface LoopSink {
  /** A text block starts streaming: returns the id of its thread item. */
  textStart(): string;
  textDelta(itemId: string, delta: string): void;
  /** A text block ended: persist its full text. */
  textEnd(itemId: string, text: string, sources?: Array<{ title: string; url: string }>): Promise<void>;
  /** A retried attempt starts over: the item's text is cleared and will stream again. */
  textReset(itemId: string): void;
  /** A thinking block ended: its summary text (empty when redacted) and how long it streamed. */
  thought?(t: { summary: string; redacted: boolean; ms: number }): Promise<void>;
  /** The reply asked for these tools; state.inflight is set. Durable. */
  toolsPlanned(steps: ToolStep[]): Promise<void>;
  /** Durable before the call runs. */
  toolStarted(step: ToolStep): Promise<void>;
  /** state.inflight.results has the result. Durable. */
  toolFinished(step: ToolStep, end: StepEnd): Promise<void>;
  describe(step: ToolStep, summary: string): void;
  /** The turn is committed to state.messages. Durable. */
  checkpoint(): Promise<void>;
  /** Usage or turns changed. */
  progress(): void;
  /** Ask the user (the ask_user tool); resolves with the answer, rejects when the task is aborted. */
  ask(question: string, step: ToolStep, signal: AbortSignal): Promise<string>;
  setWaiting(waiting: boolean): Promise<void>;
  /** A model call failed and is tried again after `delayMs`; called once per failed attempt. */
  retrying(failure: Failure, delayMs: number): void;
  /** Something the user should know about the run (shown in the thread). */
  notice?(text: string): void;
  /** A server tool (web search / fetch) finished at the API: show it as a step. */
  webStep?(step: WebStep): void;
}

export type AbortWhy = 'cancel' | 'shutdown';

export type LoopResult =
  | { kind: 'done'; text: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'aborted'; why: AbortWhy };
