// A running task's cap check before each model call. The loop asks through its `capReached` hook,
// which reaches the spending caps (spend/index.ts blocked()) through the agent's start gate: a plain
// `() => string | undefined` handed through the supervisor and the runner. The call about to be made
// rides along for the length of that one synchronous check (checkCall), so the caps can reserve its
// cost, skip the caps the person already let this task go past, and say which cap stopped it,
// without widening every layer in between. Outside a check (a new task's start gate) there is none.
import type { Usage } from '../../../shared/src/index.js';
import { estimateTokens } from './context-window.js';
import { costUsd, priceOf, WEB_SEARCH_USD } from './pricing.js';
import { WEB_FETCH, WEB_FETCH_MAX_CONTENT_TOKENS, WEB_SEARCH } from './web-tools.js';
import type { ModelRequest } from './wire.js';

export interface CallCheck {
  taskId: string;
  /** The task's cost before the call (all its runs). */
  costUsd: number;
  /** What the call may cost at most (callEstimateUsd). */
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
  /** Raises what stays reserved for the call (counted from `costUsd`) once the API says more of its cost. */
  raise?: (reservedUsd: number) => void;
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

/**
 * Tokens a prompt may really be per estimated token (estimateTokens, about characters / 4 for ASCII): code runs nearer 3 characters
 * a token, Japanese or Chinese about 1; this, priced at the cache-write rate (1.25x), nearly covers
 * the densest, and all of max_tokens counted as output covers the rest.
 */
const DENSER_TOKENS = 3;
const CACHE_WRITE_RATE = 1.25;
/**
 * Web searches and fetches counted per call, of the request's max_uses (10 each for a new task):
 * counting all of them would hold over a dollar for every research call on Sonnet and let few run
 * side by side under a cap, while a reply rarely makes more than this. One that does is counted at
 * what it cost for the task's later calls (calls-under-way.ts).
 */
const WEB_USES_COUNTED = 2;
/** The most one search's results add to the prompt, as counted (a fetch adds at most max_content_tokens). */
const SEARCH_RESULT_TOKENS = 25_000;

/** The request's searches and fetches as counted, and what they and the output may cost besides the prompt. */
function beyondPrompt(request: ModelRequest): { passes: number; usd: number } {
  const p = priceOf(request.model);
  const uses = (name: string) =>
    Math.min(
      WEB_USES_COUNTED,
      request.tools
        .filter((t) => !('input_schema' in t) && t.name === name)
        .reduce((n, t) => n + Math.max(0, ('max_uses' in t ? t.max_uses : undefined) ?? WEB_USES_COUNTED), 0),
    );
  const searches = uses(WEB_SEARCH);
  const fetches = uses(WEB_FETCH);
  const webTokens = searches * SEARCH_RESULT_TOKENS + fetches * WEB_FETCH_MAX_CONTENT_TOKENS;
  return {
    // Each search or fetch samples again over the whole prompt (usageBounds counts passes the same way).
    passes: 1 + searches + fetches,
    usd:
      (webTokens * p.input * CACHE_WRITE_RATE + request.max_tokens * p.output) / 1_000_000 + searches * WEB_SEARCH_USD,
  };
}

/** Requests whose cost was reserved, with their cap check: what the API reports of them raises it. */
const reserved = new WeakMap<ModelRequest, CallCheck>();

/**
 * The most a request may cost, as a cap check reserves it: its prompt (denser than estimated, priced
 * as a cache write) once per pass, what the web tools may add (results and fees), and all of
 * max_tokens written. Worked out by the check that reserves it, which the request is tied to here.
 */
export function callEstimateUsd(request: ModelRequest): number {
  const call = callBeingChecked();
  if (call) reserved.set(request, call);
  const p = priceOf(request.model);
  const rest = beyondPrompt(request);
  const promptUsd = (estimateTokens(request) * DENSER_TOKENS * p.input * CACHE_WRITE_RATE) / 1_000_000;
  return rest.passes * promptUsd + rest.usd;
}

/**
 * The API reported the prompt of a reserved request (message_start), with the task's cost now: the
 * reservation becomes at least that prompt's cost per pass plus the rest, before other tasks' cap
 * checks count it (the prompt can be far larger than the request's text: web results, dense text).
 */
export function promptReported(request: ModelRequest, taskCostUsd: number, usage: Usage): void {
  const call = reserved.get(request);
  if (!call?.raise) return;
  const promptUsd = costUsd(request.model, { ...usage, outputTokens: 0, webSearches: 0, webFetches: 0 });
  const rest = beyondPrompt(request);
  // An attempt before this one (a retry) is charged already: it is part of this call's cost.
  call.raise(Math.max(0, taskCostUsd - call.costUsd) + rest.passes * promptUsd + rest.usd);
}
