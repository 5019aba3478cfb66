// The spending limits hold when the model server's usage figures are missing, negative or zeroed:
// a reply is then charged at least our own estimate (chars / 4 of the request and of the reply),
// and a later lower figure never replaces an earlier one. Sane figures are kept exactly.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LoopEvent, LoopState } from '../../src/agent/loop-types.js';
import { callModel } from '../../src/agent/model-call.js';
import { emptyUsage } from '../../src/agent/pricing.js';
import type { ModelClient, ModelRequest, StreamEvent } from '../../src/agent/wire.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { type Harness, startHarness } from './harness.js';

/** A model client that plays one reply's events as given. */
const playing = (events: StreamEvent[]): ModelClient => ({
  async stream(_request, { onEvent }) {
    for (const e of events) onEvent(e);
  },
});

const request = (userText: string): ModelRequest =>
  ({
    model: 'claude-sonnet-4-6',
    max_tokens: 1024,
    system: [{ type: 'text', text: 'You are a test.' }],
    tools: [],
    messages: [{ role: 'user', content: [{ type: 'text', text: userText }] }],
  }) as ModelRequest;

const textBlock = (t: string): StreamEvent[] => [
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: t } },
  { type: 'content_block_stop', index: 0 },
];

async function call(events: StreamEvent[], userText = 'Hi.') {
  const state: LoopState = { messages: [], turns: 0, usage: emptyUsage(), costUsd: 0, tainted: false };
  const emitted: LoopEvent[] = [];
  const r = await callModel(
    {
      model: playing(events),
      signal: new AbortController().signal,
      emit: async (e) => {
        emitted.push(e);
      },
      settings: {
        model: 'claude-sonnet-4-6',
        maxTokens: 1024,
        contextTokens: 200_000,
        retryWindowMs: 1_000,
        retryBaseMs: 1,
      },
      state,
    },
    request(userText),
  );
  expect(r.kind).toBe('ok');
  return { state, notices: emitted.filter((e) => e.type === 'notice') };
}

describe('usage figures of one reply', () => {
  it('a message_delta that reports 0 does not take back the 50,000 input tokens of message_start', async () => {
    const { state } = await call([
      { type: 'message_start', message: { usage: { input_tokens: 50_000, output_tokens: 1 } } },
      ...textBlock('ok'),
      { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { input_tokens: 0, output_tokens: 0 } },
      { type: 'message_stop' },
    ]);
    expect(state.usage.inputTokens).toBe(50_000);
    expect(state.costUsd).toBeCloseTo(0.15, 4);
  });

  it('missing figures are estimated from the request and the reply, and a notice says so once', async () => {
    const big = 'x'.repeat(80_000); // ≈ 20,000 tokens sent
    const out = 'y'.repeat(24_000); // ≈ 6,000 tokens streamed back
    const { state, notices } = await call(
      [
        { type: 'message_start', message: {} },
        ...textBlock(out),
        { type: 'message_delta', delta: { stop_reason: 'end_turn' } },
        { type: 'message_stop' },
      ],
      big,
    );
    expect(state.usage.inputTokens).toBeGreaterThanOrEqual(20_000);
    expect(state.usage.outputTokens).toBeGreaterThanOrEqual(6_000);
    expect(state.costUsd).toBeGreaterThan(0.06 + 0.09 - 0.001);
    expect(notices).toHaveLength(1);
    expect((notices[0] as { text: string }).text).toMatch(/did not report believable usage.*estimated/);
  });

  it('negative and zero figures are not believed for a large request and reply', async () => {
    const { state } = await call(
      [
        { type: 'message_start', message: { usage: { input_tokens: -5, output_tokens: -1 } } },
        ...textBlock('y'.repeat(24_000)),
        { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { input_tokens: 0, output_tokens: 0 } },
        { type: 'message_stop' },
      ],
      'x'.repeat(80_000),
    );
    expect(state.usage.inputTokens).toBeGreaterThanOrEqual(20_000);
    expect(state.usage.outputTokens).toBeGreaterThanOrEqual(6_000);
  });

  it('sane figures are kept exactly, cached prompts included (a tiny input beside large cache reads)', async () => {
    const { state, notices } = await call(
      [
        {
          type: 'message_start',
          message: { usage: { input_tokens: 3, cache_read_input_tokens: 19_000, cache_creation_input_tokens: 500 } },
        },
        ...textBlock('y'.repeat(24_000)),
        { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 5_200 } },
        { type: 'message_stop' },
      ],
      'x'.repeat(80_000),
    );
    expect(state.usage).toEqual({
      inputTokens: 3,
      outputTokens: 5_200,
      cacheReadTokens: 19_000,
      cacheWriteTokens: 500,
    });
    expect(notices).toHaveLength(0);
  });
});

describe('limits on the real agent, with a model server whose usage figures are bad', () => {
  let server: ModelServer;
  let h: Harness | undefined;
  beforeEach(async () => {
    server = await startModelServer();
  });
  afterEach(async () => {
    await h?.cleanup();
    h = undefined;
    await server.close();
  });

  // Each turn: about 24 KB of text (≈ 6,000 output tokens, $0.09 at Sonnet prices) and a tool call.
  const chatty = (usage: Record<string, number>) => () => ({
    content: [text('z'.repeat(24_000)), toolUse('write_file', { name: 'loop.txt', text: 'again' })],
    usage,
  });

  it.each([
    ['missing', { input_tokens: Number.NaN, output_tokens: Number.NaN }],
    ['negative', { input_tokens: -1, output_tokens: -1 }],
    ['zero', { input_tokens: 0, output_tokens: 0 }],
  ])('the per-task cost limit still stops the task (usage %s)', async (_name, usage) => {
    server.setScript(chatty(usage));
    h = await startHarness({ modelUrl: server.url, config: { agent: { maxCostUsd: 0.05, maxTurns: 6 } } });
    const { task } = await h.send('thread.create', { text: 'loop' });
    const failed = await h.waitTask(task.id, ['failed']);
    expect(failed.reason).toMatch(/^Stopped after spending about \$0\.\d\d \(limit: agent\.maxCostUsd = \$0\.05\)/);
    expect(server.requests).toHaveLength(1);
  });

  it('the output-token limit still stops the task when output tokens are reported as 0', async () => {
    server.setScript(chatty({ output_tokens: 0 }));
    h = await startHarness({ modelUrl: server.url, config: { agent: { maxOutputTokens: 10_000, maxTurns: 6 } } });
    const { task } = await h.send('thread.create', { text: 'loop' });
    const failed = await h.waitTask(task.id, ['failed']);
    expect(failed.reason).toMatch(/^Stopped after [\d,]+ output tokens \(limit: agent\.maxOutputTokens = 10,000\)/);
    expect(server.requests).toHaveLength(2);
  });

  it('a large request reported as 0 input tokens is charged its estimated size', async () => {
    server.setScript(() => ({
      ...reply(toolUse('write_file', { name: 'a.txt', text: 'a' })),
      usage: { input_tokens: 0 },
    }));
    h = await startHarness({ modelUrl: server.url, config: { agent: { maxCostUsd: 0.02, maxTurns: 6 } } });
    // ≈ 10,000 tokens of request: $0.03 a call.
    const { task } = await h.send('thread.create', { text: 'w'.repeat(40_000) });
    const failed = await h.waitTask(task.id, ['failed']);
    expect(failed.reason).toMatch(/^Stopped after spending about \$0\.03 /);
    expect(failed.usage.inputTokens).toBeGreaterThanOrEqual(10_000);
    expect(server.requests).toHaveLength(1);
  });
});
