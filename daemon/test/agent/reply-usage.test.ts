// What one reply is charged: each call at its own model's price (never the whole task re-priced),
// and figures no request allows cut to what it does allow, each with a notice.
import { describe, expect, it } from 'vitest';
import type { LoopEvent, LoopState } from '../../src/agent/loop-types.js';
import { callModel } from '../../src/agent/model-call.js';
import { costUsd, emptyUsage } from '../../src/agent/pricing.js';
import type { ModelClient, ModelRequest, ServerTool, StreamEvent, WireMessage } from '../../src/agent/wire.js';

/** A model client that plays one reply's events as given. */
const playing = (events: StreamEvent[]): ModelClient => ({
  async stream(_request, { onEvent }) {
    for (const e of events) onEvent(e);
  },
});

const reply = (
  usageStart: Record<string, unknown>,
  usageEnd: Record<string, unknown>,
  out = 'Done.',
): StreamEvent[] => [
  { type: 'message_start', message: { usage: usageStart } },
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: out } },
  { type: 'content_block_stop', index: 0 },
  { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: usageEnd as never },
  { type: 'message_stop' },
];

const requestOf = (messages: WireMessage[], extra: Partial<ModelRequest> = {}): ModelRequest => ({
  model: 'claude-sonnet-4-6',
  max_tokens: 1024,
  system: [{ type: 'text', text: 'You are a test.' }],
  tools: [],
  messages,
  ...extra,
});
const said = (text: string): WireMessage[] => [{ role: 'user', content: [{ type: 'text', text }] }];

async function call(
  events: StreamEvent[],
  opts: { request?: ModelRequest; model?: string; state?: LoopState; contextTokens?: number } = {},
) {
  const state = opts.state ?? { messages: [], turns: 0, usage: emptyUsage(), costUsd: 0, tainted: false };
  const emitted: LoopEvent[] = [];
  const r = await callModel(
    {
      model: playing(events),
      signal: new AbortController().signal,
      emit: async (e) => {
        emitted.push(e);
      },
      settings: {
        model: opts.model ?? 'claude-sonnet-4-6',
        maxTokens: 1024,
        contextTokens: opts.contextTokens ?? 200_000,
        retryWindowMs: 1_000,
        retryBaseMs: 1,
      },
      state,
    },
    opts.request ?? requestOf(said('Hi.')),
  );
  expect(r.kind).toBe('ok');
  const notices = emitted.flatMap((e) => (e.type === 'notice' ? [e.text] : []));
  return { state, notices };
}

describe('a task that goes on under another model', () => {
  it('keeps what it spent at the old price and adds the new call at the new price', async () => {
    // Three Opus 4.1 calls of 50,000 input tokens: $2.25 spent.
    const before = { ...emptyUsage(), inputTokens: 150_000 };
    const spent = costUsd('claude-opus-4-1', before);
    const state: LoopState = { messages: [], turns: 3, usage: before, costUsd: spent, tainted: false };
    await call(reply({ input_tokens: 50_000, output_tokens: 1 }, { output_tokens: 2 }), {
      state,
      model: 'claude-haiku-4-5',
    });
    const thisCall = costUsd('claude-haiku-4-5', { ...emptyUsage(), inputTokens: 50_000, outputTokens: 2 });
    expect(state.costUsd).toBeCloseTo(spent + thisCall, 9);
    expect(state.costUsd).toBeGreaterThan(2.25);
    expect(state.usage.inputTokens).toBe(200_000);
  });

  it('and the other way round, a dearer model does not inflate what was spent', async () => {
    const before = { ...emptyUsage(), inputTokens: 300_000 };
    const spent = costUsd('claude-haiku-4-5', before); // $0.30
    const state: LoopState = { messages: [], turns: 3, usage: before, costUsd: spent, tainted: false };
    await call(reply({ input_tokens: 10, output_tokens: 1 }, { output_tokens: 2 }), {
      state,
      model: 'claude-opus-4-1',
    });
    expect(state.costUsd).toBeLessThan(0.301);
  });
});

describe('figures no request allows', () => {
  const webSearch = (maxUses: number): ServerTool => ({
    type: 'web_search_20250305',
    name: 'web_search',
    max_uses: maxUses,
  });

  it('1e12 web searches are cut to the max_uses the request allowed, with a notice', async () => {
    const { state, notices } = await call(
      reply(
        { input_tokens: 500, output_tokens: 1 },
        { output_tokens: 20, server_tool_use: { web_search_requests: 1e12 } },
      ),
      { request: requestOf(said('Search.'), { tools: [webSearch(3)] }) },
    );
    expect(state.usage.webSearches).toBe(3);
    expect(state.costUsd).toBeLessThan(0.04);
    expect(notices).toEqual([expect.stringMatching(/more web searches for a reply than its request allows/)]);
    // A request without web search allows none.
    const none = await call(
      reply(
        { input_tokens: 500, output_tokens: 1 },
        { output_tokens: 20, server_tool_use: { web_search_requests: 7 } },
      ),
    );
    expect(none.state.usage.webSearches ?? 0).toBe(0);
    expect(none.state.costUsd).toBeLessThan(0.01);
  });

  it('a prompt past the context window and output past max_tokens are cut to them', async () => {
    const { state, notices } = await call(
      reply({ input_tokens: 1e15, cache_read_input_tokens: 1e12, output_tokens: 1 }, { output_tokens: 1e12 }),
      { request: requestOf(said('Hi.'), { thinking: { type: 'enabled', budget_tokens: 2_000 } }) },
    );
    expect(state.usage.inputTokens + state.usage.cacheReadTokens).toBe(200_000);
    expect(state.usage.outputTokens).toBe(1024 + 2_000);
    // $0.60 of prompt and $0.05 of output at most: not $3,000.
    expect(state.costUsd).toBeLessThan(0.7);
    expect(notices).toEqual([
      expect.stringMatching(/more prompt tokens and output tokens for a reply than its request allows/),
    ]);
  });

  it('a large request may report up to a multiple of its estimate, past a small context window', async () => {
    const { state, notices } = await call(reply({ input_tokens: 150_000, output_tokens: 1 }, { output_tokens: 2 }), {
      request: requestOf(said('字'.repeat(60_000))), // ≈ 15,000 estimated tokens, really about 60,000 or more
      contextTokens: 8_000,
    });
    expect(state.usage.inputTokens).toBe(150_000);
    expect(notices).toEqual([]);
  });
});
