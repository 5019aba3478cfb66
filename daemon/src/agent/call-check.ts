// A running task's cap check before each model call. The loop asks through its `capReached` hook,
// which reaches the spending caps (spend/index.ts blocked()) through the agent's start gate: a plain
// `() => string | undefined` handed through the supervisor and the runner. The call about to be made
// rides along for the length of that one synchronous check (checkCall), so the caps can reserve its
// cost, skip the caps the person already let this task go past, and say which cap stopped it,
// without widening every layer in between. Outside a check (a new task's start gate) there is none.
import { estimateTokens } from './context-window.js';
import { priceOf } from './pricing.js';
import type { ModelRequest } from './wire.js';

export interface CallCheck {
  taskId: string;
  /** The task's cost before the call (all its runs). */
  costUsd: number;
  /** What the call may cost at most: its prompt as estimated, and all of max_tokens written. */
  estimateUsd: () => number;
  /** Caps the person let this task go past (capKey), skipped by the check. */
  waived: ReadonlySet<string>;
  // Filled in by the spending caps during the check:
  /** The cap that stopped the call: which one (with its day or month) and how much it is. */
  reached?: { key: string; limitUsd: number };
  /** Not reached, but other calls under way may take the rest of a cap: check again once one ends. */
  wait?: Promise<void>;
  /** The call may go: its cost is reserved until this is called with the task's cost after the call. */
  settle?: (costUsdAfter: number) => void;
}

let checking: CallCheck | undefined;

/** Runs `check` (a spending cap check, synchronous) with `call` as the call being checked. */
export function checkCall(call: CallCheck, check: () => string | undefined): string | undefined {
  const outer = checking;
  checking = call;
  try {
    return check();
  } finally {
    checking = outer;
  }
}

/** The model call whose cap check is running now, if any. */
export function callBeingChecked(): CallCheck | undefined {
  return checking;
}

/** A cap with its period: approving one day's (or month's) cap says nothing about the next one. */
export const capKey = (kind: 'daily' | 'monthly', period: string) => `${kind}:${period}`;

/** The most a request can cost: its prompt priced as uncached input, plus max_tokens of output. */
export function callEstimateUsd(request: ModelRequest): number {
  const p = priceOf(request.model);
  return (estimateTokens(request) * p.input + request.max_tokens * p.output) / 1_000_000;
}
