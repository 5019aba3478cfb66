// A long task fits: 300 turns, each reading a large tool output, finish without a context error.
// Old results are shortened, then cleared, by the daemon's own rule (this endpoint has no context
// management); every request stays within the window and keeps each tool_use paired with its result.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { estimateTokens } from '../../src/agent/context-window.js';
import { type ModelServer, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { type Harness, startHarness } from './harness.js';

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

const TURNS = 300;
const CONTEXT = 30_000;
const MAX_TOKENS = 4096;

it('a 300-turn task with large tool outputs finishes without a context error', { timeout: 240_000 }, async () => {
  let maxTokensSeen = 0;
  let unpaired = 0;
  server.setScript((req, i) => {
    const body = req.body;
    maxTokensSeen = Math.max(maxTokensSeen, estimateTokens(body));
    // Every tool_use in an assistant message has its tool_result in the next message.
    const msgs = body.messages as Array<{
      role: string;
      content: Array<{ type: string; id?: string; tool_use_id?: string }>;
    }>;
    for (let m = 0; m < msgs.length - 1; m++)
      for (const b of msgs[m].content)
        if (b.type === 'tool_use' && !msgs[m + 1].content.some((r) => r.tool_use_id === b.id)) unpaired++;
    if (i >= TURNS - 1) return { content: [text(`All ${TURNS} steps done.`)] };
    return { content: [text(`Step ${i + 1}.`), toolUse('big', { chars: 12_000 + i })] };
  });
  h = await startHarness({
    modelUrl: server.url,
    config: {
      anthropic: { contextTokens: CONTEXT, maxTokens: MAX_TOKENS, thinking: { enabled: false } },
      agent: { maxTurns: 400 },
    },
    agentOptions: { deltaIntervalMs: 1000 },
  });
  const { thread, task } = await h.send('thread.create', { text: 'a very long task' });
  const done = await h.waitTask(task.id, ['done', 'failed'], 220_000);
  expect(done.reason).toBeUndefined();
  expect(done.state).toBe('done');
  expect(server.requests).toHaveLength(TURNS);
  expect(unpaired).toBe(0);
  // Within the window, with room for the reply.
  expect(maxTokensSeen).toBeLessThanOrEqual(CONTEXT - MAX_TOKENS);
  // The last request carries all 299 tool calls; the oldest results are cleared, the newest whole.
  const last = server.requests.at(-1)!.body.messages;
  const results = last.flatMap((m: any) => m.content.filter((b: any) => b.type === 'tool_result'));
  expect(results).toHaveLength(TURNS - 1);
  expect(results[0].content[0].text).toMatch(/older output cleared/);
  expect(results.at(-1).content[0].text.length).toBeGreaterThanOrEqual(12_000);
  const got = await h.send('thread.get', { threadId: thread.id });
  expect(got.items.at(-1).text).toBe(`All ${TURNS} steps done.`);
});
