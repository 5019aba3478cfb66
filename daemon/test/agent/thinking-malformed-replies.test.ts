// A thinking block goes back to the API byte for byte with every later request, and the API refuses
// the conversation from then on when one is not valid. So a reply with a thinking block that cannot
// go back as it came (no signature, data or text that is not a string) or that its request did not
// ask for is refused as model output: nothing in it runs or is kept, and no thought is shown.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type LoopState, runAgentLoop } from '../../src/agent/loop.js';
import type { LoopEvent } from '../../src/agent/loop-types.js';
import { emptyUsage } from '../../src/agent/pricing.js';
import type { ToolRuntime } from '../../src/agent/tool-runtime.js';
import type { ModelClient, ModelRequest, StreamEvent } from '../../src/agent/wire.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { type Harness, startHarness, testTools } from './harness.js';

type Block = Extract<StreamEvent, { type: 'content_block_start' }>['content_block'];

/** One reply: `blocks` as they start (a thinking block's signature as its own delta), then a write call. */
function replyWith(blocks: Array<{ start: Block; signature?: string }>): StreamEvent[] {
  const events: StreamEvent[] = [
    { type: 'message_start', message: { usage: { input_tokens: 100, output_tokens: 1 } } },
  ];
  let index = 0;
  for (const b of blocks) {
    events.push({ type: 'content_block_start', index, content_block: b.start });
    if (b.signature !== undefined)
      events.push({ type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: b.signature } });
    events.push({ type: 'content_block_stop', index: index++ });
  }
  events.push(
    {
      type: 'content_block_start',
      index,
      content_block: { type: 'tool_use', id: 'toolu_W1', name: 'write', input: {} },
    },
    { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: '{}' } },
    { type: 'content_block_stop', index },
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

/** Runs the loop on scripted replies; thinking is asked for unless `thinking` is false. */
async function run(replies: StreamEvent[][], thinking = true) {
  const ran: string[] = [];
  const events: LoopEvent[] = [];
  const requests: ModelRequest[] = [];
  const model: ModelClient = {
    async stream(request, { onEvent }) {
      requests.push(structuredClone(request));
      const r = replies.shift();
      if (!r) throw new Error('the script has no more replies');
      for (const e of r) onEvent(e);
    },
  };
  const tools: ToolRuntime = {
    definitions: () => [{ name: 'write', description: 'write', input_schema: { type: 'object', properties: {} } }],
    summarize: (name) => name,
    promptContext: () => [],
    async run(call) {
      ran.push(call.id);
      return { content: [{ type: 'text', text: 'written' }], isError: false, state: 'completed' };
    },
  };
  const state: LoopState = {
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Please help.' }] }],
    turns: 0,
    usage: emptyUsage(),
    costUsd: 0,
    tainted: false,
  };
  const result = await runAgentLoop({
    model,
    tools,
    signal: new AbortController().signal,
    emit: async (e) => {
      events.push(e);
    },
    hooks: { ask: () => Promise.reject(new Error('no person')), setWaiting: async () => undefined },
    budgets: { maxTurns: 5, maxOutputTokens: 100_000, maxWallMs: 60_000, maxCostUsd: 10 },
    settings: {
      model: 'claude-sonnet-4-6',
      maxTokens: 8192,
      contextTokens: 200_000,
      retryWindowMs: 1_000,
      retryBaseMs: 1,
      ...(thinking ? { thinkingBudget: 2048 } : {}),
    },
    system: [{ type: 'text', text: 'You are a test.' }],
    state,
    taskId: 'thr_think.tthink',
    threadId: 'thr_think',
  });
  return { result, ran, state, requests, thoughts: events.filter((e) => e.type === 'thought') };
}

const SIGNATURE = `EqQBCkYIARgCKkBz${'a1B2c3/+='.repeat(8)}`;

describe('a reply with a thinking block that cannot go back as it came', () => {
  const cases: Array<{ what: string; blocks: Array<{ start: Block; signature?: string }>; reason: RegExp }> = [
    {
      what: 'a thinking block without a signature',
      blocks: [{ start: { type: 'thinking', thinking: 'I think', signature: '' }, signature: '' }],
      reason: /thinking block without a signature; the reply was not used/,
    },
    {
      what: 'a thinking block with no signature at all',
      blocks: [{ start: { type: 'thinking', thinking: 'I think' } }],
      reason: /thinking block without a signature/,
    },
    {
      what: 'a redacted thinking block whose data is not a string',
      blocks: [{ start: { type: 'redacted_thinking', data: { evil: true } } }],
      reason: /redacted thinking block without its data; the reply was not used/,
    },
    {
      what: 'a redacted thinking block with empty data',
      blocks: [{ start: { type: 'redacted_thinking', data: '' } }],
      reason: /redacted thinking block without its data/,
    },
    {
      what: 'a thinking block whose text is not a string',
      blocks: [{ start: { type: 'thinking', thinking: { a: 1 }, signature: '' }, signature: SIGNATURE }],
      reason: /thinking block whose text or signature is not text/,
    },
  ];
  for (const c of cases)
    it(`is refused: ${c.what}`, async () => {
      const { result, ran, state, requests, thoughts } = await run([replyWith(c.blocks), doneReply]);
      expect(result).toEqual({ kind: 'failed', reason: expect.stringMatching(c.reason) });
      expect(result.kind === 'failed' && result.reason).toMatch(/check anthropic\.baseUrl/);
      expect(ran).toEqual([]); // the call in the same reply never runs
      expect(requests).toHaveLength(1); // nothing goes back to the API
      expect(state.messages.map((m) => m.role)).toEqual(['user']); // nothing is kept
      expect(thoughts).toEqual([]); // and the phone is shown no thought
      expect(state.usage.inputTokens).toBe(100); // the reply still counts
    });

  it('a thinking block in reply to a request that did not ask for thinking is refused', async () => {
    const { result, ran, state, requests } = await run(
      [replyWith([{ start: { type: 'thinking', thinking: 'I think', signature: '' }, signature: SIGNATURE }])],
      false,
    );
    expect(requests[0].thinking).toBeUndefined();
    expect(result).toEqual({
      kind: 'failed',
      reason: expect.stringMatching(/sent a thinking block, but this request did not ask for thinking/),
    });
    expect(ran).toEqual([]);
    expect(state.messages).toHaveLength(1);
  });

  it('valid thinking and redacted thinking are kept and sent back exactly', async () => {
    const blocks = [
      { start: { type: 'thinking', thinking: 'Let me think… “quotes” 🤔', signature: '' }, signature: SIGNATURE },
      { start: { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/Laf==' } },
    ];
    const { result, ran, requests, thoughts } = await run([replyWith(blocks), doneReply]);
    expect(result).toEqual({ kind: 'done', text: 'Done.' });
    expect(ran).toEqual(['toolu_W1']);
    expect(thoughts).toHaveLength(2);
    const assistant = requests[1].messages.find((m) => m.role === 'assistant');
    expect(JSON.stringify(assistant?.content.slice(0, 2))).toBe(
      JSON.stringify([
        { type: 'thinking', thinking: 'Let me think… “quotes” 🤔', signature: SIGNATURE },
        { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/Laf==' },
      ]),
    );
  });
});

describe('on the real agent, through the API client', () => {
  let server: ModelServer | undefined;
  let h: Harness | undefined;
  let home: string | undefined;
  afterEach(async () => {
    await h?.cleanup();
    h = undefined;
    await server?.close();
    server = undefined;
    if (home) fs.rmSync(home, { recursive: true, force: true });
    home = undefined;
  });

  it('a thinking block without a signature fails the task; nothing runs, is kept or shown', async () => {
    server = await startModelServer([
      {
        content: [
          { type: 'thinking', thinking: 'I think', signature: '' },
          toolUse('write_file', { name: 'a.txt', text: 'hi' }),
        ],
      },
      reply(text('Done.')),
    ]);
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-thinking-malformed-'));
    h = await startHarness({ modelUrl: server.url, home, tools: testTools(path.join(home, 'files')) });
    const { thread, task } = await h.send('thread.create', { text: 'go' });
    const t = await h.waitTask(task.id, ['done', 'failed']);
    expect(t.state).toBe('failed');
    expect(t.reason).toMatch(/thinking block without a signature; the reply was not used/);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0].body.thinking).toMatchObject({ type: 'enabled' });
    expect(h.tools.runs.get('write_file')).toBeUndefined();
    expect(fs.existsSync(path.join(home, 'files', 'a.txt'))).toBe(false);
    expect(h.eventsOf('item.added').filter((e) => e.item.kind === 'thought')).toEqual([]);

    // The thread stays usable: a follow-up carries no thinking block from the refused reply.
    const { task: t2 } = await h.send('thread.send', { threadId: thread.id, text: 'again' });
    await h.waitTask(t2.id, ['done']);
    expect(JSON.stringify(server.requests[1].body.messages)).not.toContain('thinking');
  });
});
