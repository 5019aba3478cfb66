// The seam between the agent loop (agent/) and the tools (tools/, connectors/): the loop asks the
// runtime which tools exist and hands it each tool call; policy, approvals, the change journal,
// the audit log, roots and sandboxing all happen behind `run`.
import type { ToolStepState } from '../../../shared/src/index.js';

/** A tool as the model sees it (the Messages API `tools` entry). */
export interface ModelToolDefinition {
  name: string;
  /** A tool the API defines itself (the memory tool): sent as {type, name} only. */
  apiType?: string;
  description: string;
  /**
   * No side effect (reads files, lists, searches): a call run again after a crash does no harm, so
   * its "about to run" need not be durable before it runs. Not sent to the model.
   */
  readOnly?: boolean;
  /**
   * The runtime says when a call acts (TaskToolContext.willRun, after any approval), and the loop
   * marks it started then, not when it hands the call over: a daemon killed while the call waited
   * for a person's approval did not leave it "outcome unknown", and a resume asks again. Not sent.
   */
  reportsStart?: boolean;
  input_schema: { type: 'object'; properties?: Record<string, unknown>; required?: string[]; [k: string]: unknown };
}

export type ToolResultBlock =
  | { type: 'text'; text: string }
  | {
      type: 'image';
      source: { type: 'base64'; media_type: 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp'; data: string };
    };

export interface ToolCallOutcome {
  /** Sent back to the model as the tool_result content. Tool output is data: the runtime marks it so. */
  content: ToolResultBlock[];
  isError: boolean;
  /** How the step ends for the user: completed, error, or denied (by policy or by the user). */
  state: Extract<ToolStepState, 'completed' | 'error' | 'denied'>;
  /** A short line for the step row on the phone ("Read sales.xlsx (3 sheets)"). */
  summary?: string;
  /** Full output for the expanded step view (capped). */
  output?: string;
  /** The call read untrusted content (web, mail, connector output): the task is tainted from now on. */
  tainted?: boolean;
  /**
   * A read-only call may return before its records outside the thread (audit entries) are durable:
   * this resolves when they are. The loop waits for it with the turn's checkpoint, before the
   * result goes out to the model.
   */
  durable?: Promise<void>;
}

export interface TaskToolContext {
  taskId: string;
  threadId: string;
  /** Aborted when the task is cancelled or the daemon stops: end child processes, stop waiting. */
  signal: AbortSignal;
  /** True once the task has read untrusted content; tools that send data out then ask first. */
  tainted: boolean;
  /** The runtime calls these while it waits for a person (approval or answer). */
  setWaiting(waiting: boolean): Promise<void>;
  /** The summary shown on the step row before the call finishes ("Run python make_chart.py"). */
  describe?(summary: string): void;
  /** For a tool that reportsStart: resolves once the call is recorded as started, rejects when it must not run (the loop moved on). */
  willRun?(): Promise<void>;
}

/** The loop pauses a task at a limit (spending, a runaway) and asks the user whether to go on. */
export interface ContinueRequest {
  kind: 'spend' | 'same_call' | 'no_progress';
  /** The question, with the evidence in a sentence: "Used $2.00 of $2.00 — continue for +$2.00?". */
  summary: string;
  /** What the user is shown in full (the evidence). */
  details: Record<string, unknown>;
  /**
   * Where in the task it asks (how many times the person retried it, and its turn count): with the
   * question, what names this ask again when a run resumed after a crash reaches the same point,
   * so an answer acknowledged before it stands. A Retry is asked anew.
   */
  at?: string;
}

export type ContinueAnswer = 'continue' | 'stop' | 'expired' | 'cancelled';

/**
 * Takes the known secrets out of a text. `reach`: the most characters one secret takes in any form
 * the redactor catches, so text that arrives in parts (streamed model text) can hold back enough
 * of its end that no secret is shown in part.
 */
export type Redactor = ((text: string) => string) & { reach?: number };

export interface ToolRuntime {
  /** The tools offered to the model for this task (stable order, so the prompt cache holds). */
  definitions(): ModelToolDefinition[];
  /** A short description of a call for its step row, before it runs. */
  summarize(name: string, input: unknown): string;
  /** Decide (policy, approval), run, journal and audit one call. Never throws: failures are outcomes. */
  run(call: { id: string; name: string; input: unknown }, ctx: TaskToolContext): Promise<ToolCallOutcome>;
  /** Lines for the system prompt: allowed folders, sandbox state, connectors. */
  promptContext(): string[];
  /**
   * A function that takes the known secrets (as they are now) out of a text, for tool output the
   * runtime does not run itself: what the API's web tools bring back.
   */
  redactor?(): Redactor;
  /** Files the task created or changed, for display (relative to the workspace when inside it). */
  changedFiles?(taskId: string): Promise<string[]>;
  /**
   * Whether any of these names is a file a task wrote with untrusted text in view (the taint
   * ledger): an instruction file loaded into the prompt that is starts the task tainted.
   */
  notedFiles?(names: string[]): boolean;
  /** Ask the user (an approval on every device, pushed) whether the task may go on past a limit. */
  askToContinue?(
    req: ContinueRequest,
    ctx: { taskId: string; threadId: string; signal: AbortSignal },
  ): Promise<ContinueAnswer>;
}
