// The internal shape of a tool: a definition for the model plus `prepare`, which validates the
// input, resolves paths and returns the exact action (shown in approvals, hashed) and a function
// that performs it. The runtime (runtime.ts) puts policy, approvals, audit and journaling around it.
import type { ModelToolDefinition, ToolResultBlock } from '../agent/tool-runtime.js';
import { ToolError } from './util.js';

export type ToolKind = 'read' | 'write' | 'shell' | 'connector';

export interface ExecResult {
  content: ToolResultBlock[];
  isError?: boolean;
  summary?: string;
  output?: string;
  tainted?: boolean;
  /** The call changed files of the task (journal updated). */
  changed?: boolean;
  /**
   * A command may have changed files that were not recorded: in its folder, which could not be
   * compared in full (too large, files left out), or `elsewhere`, outside it, where it could write.
   */
  unrecorded?: { inFolder: boolean; elsewhere: boolean };
}

export interface PreparedCall {
  /** The exact action: what an approval shows and what its hash covers. */
  action: Record<string, unknown>;
  /** For "allow for the rest of this task": calls of the same class need no new approval. */
  actionClass: string;
  /** A few words for the step row and notifications. */
  summary: string;
  /** What policy patterns match: the command line for shell, resolved paths for file tools. */
  subjects: string[];
  /**
   * The change outlives the thread (memory, an instruction file, a file other programs run later):
   * in a tainted thread it needs the user's approval.
   */
  persists?: 'memory' | 'instructions' | 'runs-later';
  /**
   * Files whose content the call shows the model, for a tool that is not a 'read' (whose subjects
   * are what it reads): reading one a tainted task wrote taints the task.
   */
  reads?: string[];
  /**
   * The call gives content a new name (a move, a rename): a mark that the old name holds text from
   * untrusted content goes with it, whoever moves it, or a clean task could launder a note.
   */
  moves?: { from: string; to: string };
  /**
   * `execute` calls `acts` itself, right before it changes anything, after setup that takes a while
   * (the shell's sandbox and undo copy): a daemon killed during that setup leaves the call unrun,
   * not "outcome unknown". Otherwise the runtime calls it before `execute`.
   */
  actsLate?: boolean;
  /** `acts` records the call as started (durably); it throws when the call must not run now. */
  execute(signal: AbortSignal, acts?: () => Promise<void>): Promise<ExecResult>;
}

export interface CallInfo {
  taskId: string;
  callId: string;
  /** The task has untrusted content in view: what it writes must be where it can be noted. */
  tainted?: boolean;
}

export interface ToolSpec {
  definition: ModelToolDefinition;
  kind: ToolKind;
  /** Can send data off the machine (shell, side-effecting connector tools). */
  egress: boolean;
  /** For connector tools: the server says the tool only reads. */
  readOnly?: boolean;
  connector?: string;
  summarize(input: Record<string, unknown>): string;
  prepare(input: Record<string, unknown>, call: CallInfo): Promise<PreparedCall>;
}

export function asInput(input: unknown): Record<string, unknown> {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new ToolError('The tool input must be a JSON object.');
  return input as Record<string, unknown>;
}

export function str(input: Record<string, unknown>, key: string): string {
  const v = input[key];
  if (typeof v !== 'string' || v === '') throw new ToolError(`"${key}" is required and must be a non-empty string.`);
  return v;
}

export function optStr(input: Record<string, unknown>, key: string): string | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ToolError(`"${key}" must be a string.`);
  return v;
}

export function optNum(input: Record<string, unknown>, key: string): number | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new ToolError(`"${key}" must be a non-negative number.`);
  return Math.floor(v);
}

export function optBool(input: Record<string, unknown>, key: string): boolean | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new ToolError(`"${key}" must be true or false.`);
  return v;
}

export const text = (t: string): ExecResult['content'] => [{ type: 'text', text: t }];
