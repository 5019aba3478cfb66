// A reply is checked before anything in it runs: a tool call id repeated in the reply or already in
// the thread's conversation fails the reply as model output (nothing runs, nothing is kept), and a
// tool input nested thousands deep is answered with a tool error while the task goes on, charged.
import { afterEach, describe, expect, it } from 'vitest';
import { type LoopResult, type LoopState, runAgentLoop } from '../../src/agent/loop.js';
import { emptyUsage } from '../../src/agent/pricing.js';
import {
  invalidInputAnswer,
  jsonNestedDeeperThan,
  nestedDeeperThan,
  tooDeepInput,
} from '../../src/agent/reply-checks.js';
import type { ToolRuntime } from '../../src/agent/tool-runtime.js';
import type { ModelClient, StreamEvent, WireMessage } from '../../src/agent/wire.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import { type Harness, startHarness } from './harness.js';

type Call = { type: 'tool_use' | 'server_tool_use'; id: string; name: string; input: unknown };

/** One reply with these calls (and a web search result for a server call, as the API sends). */
function callsReply(calls: Call[]): StreamEvent[] {
  const events: StreamEvent[] = [
    { type: 'message_start', message: { usage: { input_tokens: 100, output_tokens: 1 } } },
  ];
  let index = 0;
  for (const c of calls) {
    events.push(
      { type: 'content_block_start', index, content_block: { type: c.type, id: c.id, name: c.name, input: {} } },
      {
        type: 'content_block_delta',
        index,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(c.input) },
      },
      { type: 'content_block_stop', index: index++ },
    );
    if (c.type === 'server_tool_use')
      events.push(
        {
          type: 'content_block_start',
          index,
          content_block: { type: 'web_search_tool_result', tool_use_id: c.id, content: [] },
        },
        { type: 'content_block_stop', index: index++ },
      );
  }
  events.push(
    { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 30 } as never },
    { type: 'message_stop' },
  );
  return events;
}

const doneReply: StreamEvent[] = [
  { type: 'message_start', message: { usage: { input_tokens: 100, output_tokens: 1 } } },
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: 'Done.' } },
  { type: 'content_block_stop', index: 0 },
  { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2 } as never },
  { type: 'message_stop' },
];

function scripted(replies: StreamEvent[][]): ModelClient {
  return {
    async stream(_request, { onEvent }) {
      const r = replies.shift();
      if (!r) throw new Error('the script has no more replies');
      for (const e of r) onEvent(e);
    },
  };
}

/** Tools `read` and `write`; `ran` records every call run. */
function tools(ran: string[]): ToolRuntime {
  const def = (name: string) => ({
    name,
    description: name,
    input_schema: { type: 'object' as const, properties: {} },
  });
  return {
    definitions: () => [def('read'), def('write')],
    summarize: (name) => name,
    promptContext: () => [],
    async run(call) {
      ran.push(`${call.name} ${call.id}`);
      return { content: [{ type: 'text', text: `${call.name} done` }], isError: false, state: 'completed' };
    },
  };
}

async function run(replies: StreamEvent[][], messages: WireMessage[] = []) {
  const ran: string[] = [];
  const state: LoopState = {
    messages: [...messages, { role: 'user', content: [{ type: 'text', text: 'Please help.' }] }],
    turns: 0,
    usage: emptyUsage(),
    costUsd: 0,
    tainted: false,
  };
  const before = state.messages.length;
  const result: LoopResult = await runAgentLoop({
    model: scripted(replies),
    tools: tools(ran),
    signal: new AbortController().signal,
    emit: async () => undefined,
    hooks: { ask: () => Promise.reject(new Error('no person')), setWaiting: async () => undefined },
    budgets: { maxTurns: 5, maxOutputTokens: 100_000, maxWallMs: 60_000, maxCostUsd: 10 },
    settings: {
      model: 'claude-sonnet-4-6',
      maxTokens: 1024,
      contextTokens: 200_000,
      retryWindowMs: 1_000,
      retryBaseMs: 1,
    },
    system: [{ type: 'text', text: 'You are a test.' }],
    state,
    taskId: 'thr_ids.tids',
    threadId: 'thr_ids',
  });
  return { result, ran, state, kept: state.messages.length - before };
}

describe('tool call ids', () => {
  it('two calls with one id in a reply: the reply is refused, neither runs', async () => {
    const { result, ran, state, kept } = await run([
      callsReply([
        { type: 'tool_use', id: 'toolu_SAME', name: 'read', input: {} },
        { type: 'tool_use', id: 'toolu_SAME', name: 'write', input: {} },
      ]),
    ]);
    expect(result).toEqual({
      kind: 'failed',
      reason: expect.stringMatching(
        /two tool calls with the same id \(toolu_SAME\) in one reply; the reply was not used/,
      ),
    });
    expect(ran).toEqual([]);
    expect(kept).toBe(0);
    expect(state.usage.inputTokens).toBe(100); // the reply still counts
  });

  it('a call given the id of the web search in the same reply is refused', async () => {
    const { result, ran } = await run([
      callsReply([
        { type: 'server_tool_use', id: 'srvtoolu_W', name: 'web_search', input: { query: 'x' } },
        { type: 'tool_use', id: 'srvtoolu_W', name: 'write', input: {} },
      ]),
    ]);
    expect(result).toMatchObject({ kind: 'failed', reason: expect.stringMatching(/same id \(srvtoolu_W\)/) });
    expect(ran).toEqual([]);
  });

  it('a call reusing the id of an earlier turn is refused, in the same task or from an earlier one', async () => {
    const same = await run([
      callsReply([{ type: 'tool_use', id: 'toolu_X', name: 'write', input: {} }]),
      callsReply([{ type: 'tool_use', id: 'toolu_X', name: 'read', input: {} }]),
    ]);
    expect(same.result).toMatchObject({
      kind: 'failed',
      reason: expect.stringMatching(/the id of an earlier call in this thread \(toolu_X\)/),
    });
    expect(same.ran).toEqual(['write toolu_X']);

    const earlierTask: WireMessage[] = [
      { role: 'user', content: [{ type: 'text', text: 'Search.' }] },
      { role: 'assistant', content: [{ type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} }] },
    ];
    const later = await run(
      [callsReply([{ type: 'tool_use', id: 'srvtoolu_1', name: 'write', input: {} }])],
      earlierTask,
    );
    expect(later.result).toMatchObject({
      kind: 'failed',
      reason: expect.stringMatching(/earlier call in this thread/),
    });
    expect(later.ran).toEqual([]);
  });

  it('distinct ids run as before', async () => {
    const { result, ran } = await run([
      callsReply([
        { type: 'tool_use', id: 'toolu_A', name: 'read', input: {} },
        { type: 'tool_use', id: 'toolu_B', name: 'write', input: {} },
      ]),
      callsReply([{ type: 'tool_use', id: 'toolu_C', name: 'read', input: {} }]),
      doneReply,
    ]);
    expect(result).toEqual({ kind: 'done', text: 'Done.' });
    expect(ran).toEqual(['read toolu_A', 'write toolu_B', 'read toolu_C']);
  });
});

describe('nesting', () => {
  it('counts objects and arrays, never brackets inside strings', () => {
    expect(jsonNestedDeeperThan('{"a":[{"b":"[[[[[[[[\\"[[[["}]}', 3)).toBe(false);
    expect(jsonNestedDeeperThan('{"a":[{"b":[1]}]}', 3)).toBe(true);
    expect(nestedDeeperThan({ a: [{ b: '[[[[' }] }, 3)).toBe(false);
    expect(nestedDeeperThan({ a: [{ b: [1] }] }, 3)).toBe(true);
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(nestedDeeperThan(deep, 100)).toBe(true);
  });

  it('a call nested too deeply is answered as such, not as cut-off input', () => {
    expect(invalidInputAnswer(tooDeepInput())).toEqual({
      text: expect.stringMatching(/nested more than 100 levels deep, so it was not run/),
      output: 'Input nested too deeply',
      why: 'input nested too deeply',
    });
    expect(invalidInputAnswer({ __errand_invalid_json: '{"a":' })?.output).toBe('Input was cut off');
    expect(invalidInputAnswer({ path: 'a.txt' })).toBeUndefined();
  });
});

describe('a tool input nested thousands deep, on the real agent', () => {
  let server: ModelServer | undefined;
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.cleanup();
    h = undefined;
    await server?.close();
    server = undefined;
  });

  it('is answered with a tool error, the task goes on, and the reply is charged', async () => {
    const depth = 5_000;
    const deep = `{"name":"a.txt","text":"a","x":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    server = await startModelServer([
      { content: [{ type: 'tool_use', id: 'toolu_deep1', name: 'write_file', input: {}, rawJson: deep }] },
      reply(text('All right.')),
    ]);
    h = await startHarness({ modelUrl: server.url });
    const { task } = await h.send('thread.create', { text: 'deep' });
    const done = await h.waitTask(task.id, ['done', 'failed']);
    expect(done.reason).toBeUndefined();
    expect(done.state).toBe('done');
    expect(h.tools.runs.get('write_file')).toBeUndefined();
    expect(done.usage.inputTokens).toBeGreaterThan(0);
    expect(done.costUsd).toBeGreaterThan(0);
    // The model is told why, in what it sees of its own call and in the call's result.
    const second = server.requests[1].body;
    const call = second.messages.at(-2).content.find((b: { type: string }) => b.type === 'tool_use');
    expect(JSON.stringify(call.input)).toMatch(/nested more than 100 levels deep/);
    const result = second.messages.at(-1).content.find((b: { type: string }) => b.type === 'tool_result');
    expect(result).toMatchObject({ tool_use_id: 'toolu_deep1', is_error: true });
  });
});
