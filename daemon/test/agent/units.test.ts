// Pure parts: error classification and backoff, prices, context estimates, role merging.
import { APIConnectionError, APIError, InternalServerError, RateLimitError } from '@anthropic-ai/sdk';
import { expect, it } from 'vitest';
import { estimateTokens, fitContext, normalizeMessages } from '../../src/agent/context-window.js';
import { costUsd, priceOf } from '../../src/agent/pricing.js';
import { backoffMs, classify, IncompleteStreamError, retryNotice, StalledStreamError } from '../../src/agent/retry.js';

it('classifies model failures into retryable or not, with reasons a person understands', () => {
  const headers = new Headers({ 'retry-after': '7' });
  const rate = new RateLimitError(
    429,
    { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } },
    undefined,
    headers,
  );
  expect(classify(rate, 'm')).toMatchObject({ retryable: true, retryAfterMs: 7000 });
  const overloaded = new InternalServerError(
    529,
    { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
    undefined,
    new Headers(),
  );
  expect(classify(overloaded, 'm')).toMatchObject({ retryable: true });
  expect(classify(overloaded, 'm').message).toMatch(/overloaded \(529\)/);
  const midStream = new APIError(
    undefined,
    { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
    undefined,
    new Headers(),
    'overloaded_error',
  );
  expect(classify(midStream, 'm').retryable).toBe(true);
  expect(classify(new APIConnectionError({ message: 'Connection error.' }), 'm').retryable).toBe(true);
  expect(classify(new IncompleteStreamError(), 'm').retryable).toBe(true);
  expect(classify(new TypeError('terminated'), 'm').retryable).toBe(true);
  const notFound = APIError.generate(
    404,
    { type: 'error', error: { type: 'not_found_error', message: 'model: x' } },
    undefined,
    new Headers(),
  );
  expect(classify(notFound, 'claude-x')).toMatchObject({ retryable: false });
  expect(classify(notFound, 'claude-x').message).toContain('"claude-x"');
  const bad = APIError.generate(
    400,
    { type: 'error', error: { type: 'invalid_request_error', message: 'messages: bad' } },
    undefined,
    new Headers(),
  );
  expect(classify(bad, 'm')).toEqual({
    retryable: false,
    message:
      'The model API refused the request (400): messages: bad. Retry; if it is refused again, start a new thread.',
  });
  // Every failure that cannot be retried by itself ends with what to do next.
  for (const status of [401, 402, 403, 404, 400]) {
    const err = APIError.generate(
      status,
      { type: 'error', error: { type: 'x', message: 'why.' } },
      undefined,
      new Headers(),
    );
    expect(classify(err, 'm').message).toMatch(/\. (Check|Retry)\b.*\.$/);
  }
});

it('backs off exponentially with jitter, capped', () => {
  for (let i = 0; i < 20; i++) {
    expect(backoffMs(0, 1000)).toBeGreaterThanOrEqual(750);
    expect(backoffMs(0, 1000)).toBeLessThanOrEqual(1250);
    expect(backoffMs(3, 1000)).toBeGreaterThanOrEqual(6000);
    expect(backoffMs(20, 1000)).toBeLessThanOrEqual(37_500);
  }
});

it('prices by model family, Sonnet by default', () => {
  expect(priceOf('claude-sonnet-4-6')).toEqual({ input: 3, output: 15 });
  expect(priceOf('claude-opus-4-1')).toEqual({ input: 15, output: 75 });
  expect(priceOf('claude-opus-4-6')).toEqual({ input: 5, output: 25 });
  expect(priceOf('claude-haiku-4-5')).toEqual({ input: 1, output: 5 });
  expect(priceOf('some-local-model')).toEqual({ input: 3, output: 15 });
  expect(
    costUsd('claude-sonnet-4-6', {
      inputTokens: 1_000_000,
      outputTokens: 0,
      cacheReadTokens: 1_000_000,
      cacheWriteTokens: 1_000_000,
    }),
  ).toBeCloseTo(3 + 0.3 + 3.75, 8);
});

it('estimates tokens and shortens the oldest tool results first', () => {
  const big = 'z'.repeat(8000);
  const messages = [
    { role: 'user' as const, content: [{ type: 'text' as const, text: 'go' }] },
    { role: 'assistant' as const, content: [{ type: 'tool_use' as const, id: 't1', name: 'read', input: {} }] },
    {
      role: 'user' as const,
      content: [{ type: 'tool_result' as const, tool_use_id: 't1', content: [{ type: 'text' as const, text: big }] }],
    },
    { role: 'assistant' as const, content: [{ type: 'tool_use' as const, id: 't2', name: 'read', input: {} }] },
    {
      role: 'user' as const,
      content: [{ type: 'tool_result' as const, tool_use_id: 't2', content: [{ type: 'text' as const, text: big }] }],
    },
  ];
  const req = { system: [{ type: 'text' as const, text: 'sys' }], tools: [], messages };
  expect(estimateTokens(req)).toBeGreaterThan(4000);
  const r = fitContext(req, 3000);
  expect(r).toMatchObject({ fits: true, changed: true });
  expect((messages[2].content[0] as { content: Array<{ text: string }> }).content[0].text).toMatch(
    /\[older output shortened: 8000 chars\]$/,
  );
  expect((messages[4].content[0] as { content: Array<{ text: string }> }).content[0].text).toBe(big);
  expect(fitContext(req, 100).fits).toBe(false);
});

it('merges neighbouring messages of the same role', () => {
  const merged = normalizeMessages([
    { role: 'user', content: [{ type: 'text', text: 'a' }] },
    { role: 'user', content: [{ type: 'text', text: 'b' }] },
    { role: 'assistant', content: [{ type: 'text', text: 'c' }] },
  ]);
  expect(merged).toEqual([
    {
      role: 'user',
      content: [
        { type: 'text', text: 'a' },
        { type: 'text', text: 'b' },
      ],
    },
    { role: 'assistant', content: [{ type: 'text', text: 'c' }] },
  ]);
});

it('words a retry notice for the person on the phone', () => {
  const overloaded = new InternalServerError(
    529,
    { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
    undefined,
    new Headers(),
  );
  expect(retryNotice(classify(overloaded, 'm'), 8_000)).toBe(
    "Claude's servers are busy (HTTP 529); trying again in 8 s.",
  );
  expect(retryNotice(classify(overloaded, 'm'), 40)).toBe("Claude's servers are busy (HTTP 529); trying again in 1 s.");
  expect(retryNotice(classify(new StalledStreamError(180_000), 'm'), 120_000)).toBe(
    'Claude stopped responding; trying again in 2 min.',
  );
  expect(retryNotice(classify(new IncompleteStreamError(), 'm'), 2_000)).toBe(
    'The connection to Claude broke in the middle of a reply; trying again in 2 s.',
  );
});
