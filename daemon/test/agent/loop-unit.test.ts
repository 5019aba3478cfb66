// The agent loop alone: an injected model client (no HTTP), a tiny tool runtime, and the events it
// emits recorded in order. Fast checks of the loop's contract with its recorder: what it says, in
// which order, and what it waits for (tool.started durable before the call runs).
import { describe, expect, it } from 'vitest';
import { type LoopEvent, type LoopHooks, type LoopResult, type LoopState, runAgentLoop } from '../../src/agent/loop.js';
import { emptyUsage } from '../../src/agent/pricing.js';
import { IncompleteStreamError } from '../../src/agent/retry.js';
import type { ToolRuntime } from '../../src/agent/tool-runtime.js';
import type { ModelClient, ModelRequest, StreamEvent } from '../../src/agent/wire.js';

type Reply = StreamEvent[] | ((signal: AbortSignal, onEvent: (e: StreamEvent) => void) => Promise<void>);

/** A model client that plays `replies` in order, one per call, and keeps the requests. */
function scriptedModel(replies: Reply[]): ModelClient & { requests: ModelRequest[] } {
  const requests: ModelRequest[] = [];
  return {
    requests,
    async stream(request, { signal, onEvent }) {
      requests.push(structuredClone(request));
      const reply = replies.shift();
      if (!reply) throw new Error('the script has no more replies');
      if (typeof reply === 'function') return reply(signal, onEvent);
      for (const e of reply) onEvent(e);
    },
  };
}

const start = (): StreamEvent => ({
  type: 'message_start',
  message: {
    usage: { input_tokens: 10, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
  },
});
const end = (stop: string, out = 5): StreamEvent[] => [
  { type: 'message_delta', delta: { stop_reason: stop }, usage: { output_tokens: out } as never },
  { type: 'message_stop' },
];
const textReply = (...chunks: string[]): StreamEvent[] => [
  start(),
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  ...chunks.map(
    (text): StreamEvent => ({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }),
  ),
  { type: 'content_block_stop', index: 0 },
  ...end('end_turn'),
];
const toolReply = (id: string, name: string, input: unknown): StreamEvent[] => [
  start(),
  { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id, name } },
  {
    type: 'content_block_delta',
    index: 0,
    delta: { type: 'input_json_delta', partial_json: JSON.stringify(input) },
  },
  { type: 'content_block_stop', index: 0 },
  ...end('tool_use'),
];

/** One tool, `echo`, returning its input's text; `log` records runs. */
function echoTools(log: string[], run?: (signal: AbortSignal) => Promise<void>): ToolRuntime {
  return {
    definitions: () => [
      {
        name: 'echo',
        description: 'Echo the text.',
        input_schema: { type: 'object', properties: { text: { type: 'string' } } },
      },
    ],
    summarize: (name, input) => `${name} ${JSON.stringify(input)}`,
    promptContext: () => [],
    async run(call, ctx) {
      log.push(`ran ${call.id}`);
      await run?.(ctx.signal);
      const text = String((call.input as { text?: unknown }).text);
      return { content: [{ type: 'text', text: `echo: ${text}` }], isError: false, state: 'completed' };
    },
  };
}

function newState(): LoopState {
  return {
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Please help.' }] }],
    turns: 0,
    usage: emptyUsage(),
    costUsd: 0,
    tainted: false,
  };
}

const noPerson: LoopHooks = {
  ask: () => Promise.reject(new Error('no person in this test')),
  setWaiting: async () => undefined,
};

async function run(
  model: ModelClient,
  opts: { tools?: ToolRuntime; log?: string[]; signal?: AbortSignal; state?: LoopState } = {},
): Promise<{ result: LoopResult; events: LoopEvent[]; state: LoopState }> {
  const events: LoopEvent[] = [];
  const log = opts.log ?? [];
  const state = opts.state ?? newState();
  const result = await runAgentLoop({
    model,
    tools: opts.tools ?? echoTools(log),
    signal: opts.signal ?? new AbortController().signal,
    emit: async (e) => {
      events.push(e);
      if (e.type === 'tool.started') {
        // Durable takes a moment: the call must not run before it is.
        await new Promise((r) => setTimeout(r, 5));
        log.push(`durable ${e.step.id}`);
      }
    },
    hooks: noPerson,
    budgets: { maxTurns: 10, maxOutputTokens: 100_000, maxWallMs: 60_000, maxCostUsd: 10 },
    settings: {
      model: 'claude-sonnet-4-6',
      maxTokens: 1024,
      contextTokens: 200_000,
      retryWindowMs: 10_000,
      retryBaseMs: 1,
    },
    system: [{ type: 'text', text: 'You are a test.' }],
    state,
    taskId: 'thr_unit.tunit',
    threadId: 'thr_unit',
  });
  return { result, events, state };
}

const kinds = (events: LoopEvent[]) => events.map((e) => e.type).filter((t) => t !== 'usage');

describe('agent loop (injected model client)', () => {
  it('streams a text reply as started, deltas and ended, then is done', async () => {
    const model = scriptedModel([textReply('Hel', 'lo.')]);
    const { result, events, state } = await run(model);
    expect(result).toEqual({ kind: 'done', text: 'Hello.' });
    expect(kinds(events)).toEqual(['text.started', 'text.delta', 'text.delta', 'text.ended']);
    const [started, , , ended] = events as Array<Extract<LoopEvent, { itemId: string }>>;
    expect(ended).toMatchObject({ type: 'text.ended', itemId: started.itemId, text: 'Hello.' });
    expect(events.filter((e) => e.type === 'text.delta').map((e) => (e as { delta: string }).delta)).toEqual([
      'Hel',
      'lo.',
    ]);
    expect(state.messages.at(-1)).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'Hello.' }] });
    expect(state.turns).toBe(1);
    expect(state.usage.outputTokens).toBe(5);
    expect(model.requests).toHaveLength(1);
    expect(model.requests[0].messages[0].role).toBe('user');
  });

  it('runs a tool round trip: planned, started (durable before the call), finished, checkpoint, answer', async () => {
    const log: string[] = [];
    const model = scriptedModel([toolReply('tu_1', 'echo', { text: 'ping' }), textReply('Got it.')]);
    const { result, events, state } = await run(model, { log });
    expect(result).toEqual({ kind: 'done', text: 'Got it.' });
    expect(kinds(events)).toEqual([
      'tools.planned',
      'tool.started',
      'tool.finished',
      'checkpoint',
      'text.started',
      'text.delta',
      'text.ended',
    ]);
    expect(log).toEqual(['durable tu_1', 'ran tu_1']);
    const planned = events.find((e) => e.type === 'tools.planned') as Extract<LoopEvent, { type: 'tools.planned' }>;
    expect(planned.steps).toEqual([
      { id: 'tu_1', name: 'echo', input: { text: 'ping' }, summary: 'echo {"text":"ping"}' },
    ]);
    const finished = events.find((e) => e.type === 'tool.finished') as Extract<LoopEvent, { type: 'tool.finished' }>;
    expect(finished.end).toMatchObject({ state: 'completed', output: 'echo: ping' });
    expect(finished.inflight.results.tu_1).toEqual({ content: [{ type: 'text', text: 'echo: ping' }], isError: false });
    // The checkpoint holds the committed turn; it is a copy, not the loop's own state.
    const cp = events.find((e) => e.type === 'checkpoint') as Extract<LoopEvent, { type: 'checkpoint' }>;
    expect(cp.state.turns).toBe(1);
    expect(cp.state.inflight).toBeUndefined();
    expect(cp.state.messages).toHaveLength(3);
    expect(cp.state.messages).not.toBe(state.messages);
    // The second request carries the result for the call.
    const second = model.requests[1].messages;
    expect(second.at(-1)).toMatchObject({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'tu_1', content: [{ type: 'text', text: 'echo: ping' }] }],
    });
    expect(state.turns).toBe(2);
  });

  it('retries a broken stream: one retrying event, the text item reset and streamed again under the same id', async () => {
    const model = scriptedModel([
      async (_signal, onEvent) => {
        for (const e of textReply('Half').slice(0, 3)) onEvent(e);
        throw new IncompleteStreamError();
      },
      textReply('Whole answer.'),
    ]);
    const { result, events } = await run(model);
    expect(result).toEqual({ kind: 'done', text: 'Whole answer.' });
    expect(kinds(events)).toEqual(['text.started', 'text.delta', 'retrying', 'text.reset', 'text.delta', 'text.ended']);
    const ids = new Set(events.flatMap((e) => ('itemId' in e ? [e.itemId] : [])));
    expect(ids.size).toBe(1);
    const retrying = events.find((e) => e.type === 'retrying') as Extract<LoopEvent, { type: 'retrying' }>;
    expect(retrying.failure.retryable).toBe(true);
    expect(model.requests).toHaveLength(2);
    expect(model.requests[1]).toEqual(model.requests[0]);
  });

  it('a cancel mid-reply ends the run as aborted and checkpoints the words said so far', async () => {
    const controller = new AbortController();
    const model = scriptedModel([
      (signal, onEvent) =>
        new Promise<void>((_resolve, reject) => {
          for (const e of textReply('Partly').slice(0, 3)) onEvent(e);
          signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
          controller.abort('cancel');
        }),
    ]);
    const { result, events, state } = await run(model, { signal: controller.signal });
    expect(result).toEqual({ kind: 'aborted', why: 'cancel' });
    expect(kinds(events)).toEqual(['text.started', 'text.delta', 'text.ended', 'checkpoint']);
    expect(state.messages.at(-1)).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'Partly' }] });
    expect(model.requests).toHaveLength(1);
  });

  it('a cancel while a tool runs records the call as cancelled and asks the model nothing more', async () => {
    const controller = new AbortController();
    const log: string[] = [];
    const tools = echoTools(log, async (signal) => {
      controller.abort('cancel');
      expect(signal.aborted).toBe(true);
    });
    const model = scriptedModel([toolReply('tu_1', 'echo', { text: 'x' }), textReply('never asked')]);
    const { result, events } = await run(model, { tools, log, signal: controller.signal });
    expect(result).toEqual({ kind: 'aborted', why: 'cancel' });
    expect(kinds(events)).toEqual(['tools.planned', 'tool.started', 'tool.finished', 'checkpoint']);
    expect(model.requests).toHaveLength(1);
  });

  it('a tool call whose id is not the API shape, or an object key, fails the task and runs nothing', async () => {
    for (const id of ['__proto__', 'constructor', 'has space', '']) {
      const log: string[] = [];
      const model = scriptedModel([toolReply(id, 'echo', { text: 'x' })]);
      const { result, state } = await run(model, { log });
      expect(result.kind).toBe('failed');
      expect((result as { reason: string }).reason).toMatch(/without a valid id/);
      expect(log).toEqual([]);
      expect(state.messages).toHaveLength(1);
    }
    const model = scriptedModel([
      [
        start(),
        {
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'tool_use', id: 'tu_1', name: 12345 as never },
        },
        { type: 'content_block_stop', index: 0 },
        ...end('tool_use'),
      ],
    ]);
    expect((await run(model)).result).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/valid name/) });
  });

  it('usage figures that are not counts never lower the spend', async () => {
    const model = scriptedModel([
      [
        {
          type: 'message_start',
          message: { usage: { input_tokens: 'lots', output_tokens: -1e12, cache_read_input_tokens: 1e308 } as never },
        },
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: 'Hi.' } },
        { type: 'content_block_stop', index: 0 },
        { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: -5 } as never },
        { type: 'message_stop' },
      ],
    ]);
    const { state } = await run(model);
    for (const n of Object.values(state.usage)) {
      expect(typeof n).toBe('number');
      expect(Number.isFinite(n) && n >= 0).toBe(true);
    }
    expect(state.usage.cacheReadTokens).toBe(200_000); // cut to the context window (reply-usage.ts)
    expect(Number.isFinite(state.costUsd) && state.costUsd > 0).toBe(true);
  });

  it('a reply far past any max_tokens is not used', async () => {
    const chunk = 'x'.repeat(100_000);
    const model = scriptedModel([textReply(...Array.from({ length: 41 }, () => chunk))]);
    const { result } = await run(model);
    expect(result).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/reply over 4,000,000 characters/) });
  });

  it('web results taint the task as they arrive, even when the reply is then cancelled', async () => {
    const controller = new AbortController();
    const model = scriptedModel([
      (signal, onEvent) =>
        new Promise<void>((_resolve, reject) => {
          onEvent(start());
          onEvent({
            type: 'content_block_start',
            index: 0,
            content_block: { type: 'server_tool_use', id: 'srvtoolu_01', name: 'web_search', input: {} },
          });
          onEvent({ type: 'content_block_stop', index: 0 });
          onEvent({
            type: 'content_block_start',
            index: 1,
            content_block: { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_01', content: [] },
          });
          onEvent({ type: 'content_block_stop', index: 1 });
          onEvent({
            type: 'content_block_start',
            index: 2,
            content_block: { type: 'text', text: 'The page says: send' },
          });
          signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
          controller.abort('cancel');
        }),
    ]);
    const { result, events, state } = await run(model, { signal: controller.signal });
    expect(result).toEqual({ kind: 'aborted', why: 'cancel' });
    expect(state.tainted).toBe(true);
    const checkpoint = events.find((e) => e.type === 'checkpoint') as { state: { tainted: boolean } } | undefined;
    expect(checkpoint?.state.tainted).toBe(true);
  });
});
