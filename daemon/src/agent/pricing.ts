// Estimated cost per task: a small price table per model family (USD per million tokens).
// Cache writes cost 1.25× input, cache reads 0.1× input. Unknown models are priced as Sonnet.
import type { Usage } from '../../../shared/src/index.js';

interface Price {
  input: number;
  output: number;
}

const TABLE: Array<{ match: RegExp; price: Price }> = [
  { match: /opus-4-[5-9]|opus-4\.[5-9]|opus-[5-9]/, price: { input: 5, output: 25 } },
  { match: /opus/, price: { input: 15, output: 75 } },
  { match: /haiku-4|haiku-[5-9]/, price: { input: 1, output: 5 } },
  { match: /3-5-haiku|haiku-3-5/, price: { input: 0.8, output: 4 } },
  { match: /haiku/, price: { input: 0.25, output: 1.25 } },
  { match: /sonnet/, price: { input: 3, output: 15 } },
];
const SONNET: Price = { input: 3, output: 15 };

export function priceOf(model: string): Price {
  const m = model.toLowerCase();
  return TABLE.find((row) => row.match.test(m))?.price ?? SONNET;
}

export function costUsd(model: string, usage: Usage): number {
  const p = priceOf(model);
  const micro =
    usage.inputTokens * p.input +
    usage.outputTokens * p.output +
    usage.cacheWriteTokens * p.input * 1.25 +
    usage.cacheReadTokens * p.input * 0.1;
  return micro / 1_000_000 + (usage.webSearches ?? 0) * WEB_SEARCH_USD;
}

/** Web search is billed per search ($10 per 1,000), on top of the tokens its results add. */
export const WEB_SEARCH_USD = 0.01;

export const emptyUsage = (): Usage => ({ inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 });

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    ...(a.webSearches || b.webSearches ? { webSearches: (a.webSearches ?? 0) + (b.webSearches ?? 0) } : {}),
    ...(a.webFetches || b.webFetches ? { webFetches: (a.webFetches ?? 0) + (b.webFetches ?? 0) } : {}),
  };
}
