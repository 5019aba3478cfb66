// What a reply is charged. The API's usage figures are kept exactly when they are believable for the
// request that was sent; a figure no such request can have is cut to the most it could be, and a
// missing one (or a prompt of 0, or output implausibly low for what streamed) is replaced by our own
// estimate. A small nonzero prompt figure is believed: the estimate cannot tell a lie from a server
// that counts differently, and charging the estimate instead stopped honest long tasks at their limit. A broken or hostile endpoint
// (anthropic.baseUrl can be any proxy) can then neither switch the spending limits off nor record a
// cost no request could have run up.
import type { Usage } from '../../../shared/src/index.js';
import { WEB_FETCH, WEB_SEARCH } from './web-tools.js';
import type { ModelRequest } from './wire.js';

/** A token count as reported: a whole number up to 1e9, or undefined when missing, negative or not a number. */
export function tokens(n: unknown): number | undefined {
  if (typeof n !== 'number' || !(n >= 0)) return undefined;
  return Math.min(Math.round(n), 1e9);
}

/**
 * How far a reported figure may fall below our estimate (estimateTokens: about characters / 4 for prose) before it is not believed:
 * below a quarter of it (one token per 16 characters, which no real tokenizer reaches) AND by more
 * than this many tokens (a short text's estimate is rough).
 */
const IMPLAUSIBLE_SHORTFALL_TOKENS = 1_000;
const implausiblyLow = (reported: number, estimate: number) =>
  reported * 4 < estimate && estimate - reported > IMPLAUSIBLE_SHORTFALL_TOKENS;

/**
 * The most tokens a prompt can be per estimated token: no tokenizer makes more tokens than UTF-8
 * bytes, and one character (estimated at a quarter token) is at most 3 bytes.
 */
const TOKENS_PER_ESTIMATED_TOKEN = 12;
/** Searches or fetches one reply may make when its request sets no max_uses (Errand always sets one). */
const USES_WHEN_UNSET = 20;

/** The most a request allows its reply to be charged for. */
export interface UsageBounds {
  /** Input plus cache reads and writes: at least this, the context window (per pass)… */
  promptAtLeast: number;
  /** …or more for a large request (its estimate is worked out only for a figure past the above). */
  prompt: () => number;
  output: number;
  webSearches: number;
  webFetches: number;
}

/**
 * Searches and fetches: at most what the request's server tools allow. The rest once per pass of
 * the API's own tool loop (each search or fetch samples again, reading the results): a prompt at
 * most the context window (anthropic.contextTokens) or a multiple of its estimate, whichever is
 * more; output at most max_tokens plus the thinking budget, or what was visibly streamed when that
 * is more (it is charged anyway).
 */
export function usageBounds(
  request: ModelRequest,
  contextTokens: number,
  estimate: { prompt: () => number; output: number },
): UsageBounds {
  const uses = (name: string) =>
    request.tools
      .filter((t) => !('input_schema' in t) && t.name === name)
      .reduce((n, t) => n + Math.max(0, ('max_uses' in t ? t.max_uses : undefined) ?? USES_WHEN_UNSET), 0);
  const webSearches = uses(WEB_SEARCH);
  const webFetches = uses(WEB_FETCH);
  const passes = 1 + webSearches + webFetches;
  return {
    promptAtLeast: passes * contextTokens,
    prompt: () => passes * Math.max(contextTokens, TOKENS_PER_ESTIMATED_TOKEN * estimate.prompt()),
    output: Math.max(passes * (request.max_tokens + (request.thinking?.budget_tokens ?? 0)), estimate.output),
    webSearches,
    webFetches,
  };
}

export interface Estimates {
  /** The whole request (estimateTokens, a fixed guess per image): charged when the prompt figure is not believed. */
  prompt: () => number;
  /** The characters the model wrote, / 4. */
  output: number;
}

/**
 * The usage a call is charged, whether any of it is our estimate, and which figures were cut.
 * `reported` says which figures arrived at all.
 * - Each figure is cut to what the request allows (usageBounds); prompt figures the dearest first.
 * - The prompt (input plus cache reads and writes, judged together: with caching, input alone is
 *   legitimately tiny) is estimated when it is not reported or reported as 0 tokens, which no
 *   request can be. An estimated prompt is priced as uncached input.
 * - Output tokens are estimated when not reported or implausibly low for what was streamed.
 */
export function chargedUsage(
  usage: Usage,
  reported: { input: boolean; output: boolean },
  estimate: Estimates,
  limits: UsageBounds,
): { usage: Usage; estimated: boolean; cut: string[] } {
  const charged = { ...usage };
  const cut: string[] = [];
  const prompt = usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens;
  if (prompt > limits.promptAtLeast && prompt > limits.prompt()) {
    let room = limits.prompt();
    for (const key of ['cacheWriteTokens', 'inputTokens', 'cacheReadTokens'] as const) {
      charged[key] = Math.min(charged[key], room);
      room -= charged[key];
    }
    cut.push('prompt tokens');
  }
  if (charged.outputTokens > limits.output) {
    charged.outputTokens = limits.output;
    cut.push('output tokens');
  }
  for (const [key, name] of [
    ['webSearches', 'web searches'],
    ['webFetches', 'web fetches'],
  ] as const) {
    const n = charged[key];
    if (n !== undefined && n > limits[key]) {
      charged[key] = limits[key];
      cut.push(name);
    }
  }
  let estimated = false;
  const cache = charged.cacheReadTokens + charged.cacheWriteTokens;
  const chargedPrompt = charged.inputTokens + cache;
  if (!reported.input || chargedPrompt === 0) {
    charged.inputTokens = Math.max(chargedPrompt, estimate.prompt()) - cache;
    estimated = true;
  }
  const output = charged.outputTokens;
  if (!reported.output || implausiblyLow(output, estimate.output)) {
    charged.outputTokens = Math.max(output, estimate.output);
    estimated = true;
  }
  return { usage: charged, estimated, cut };
}
