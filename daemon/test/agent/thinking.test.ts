// Extended thinking: the request asks for it (budget, interleaved beta), thinking and redacted
// thinking blocks come back to the API byte-identical on the next turn, after a daemon restart and
// after a resumed task; the phone gets a folded "thought" item; thinking tokens count in usage.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ModelServer, ScriptBlock } from '../helpers/model-server.js';
import { reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { type Harness, startHarness, testTools } from './harness.js';

let server: ModelServer;
let h: Harness | undefined;
let home: string;

beforeEach(async () => {
  server = await startModelServer();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-thinking-'));
});
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
  await server.close();
  fs.rmSync(home, { recursive: true, force: true });
});

// Unicode, quotes and a long signature: a re-encoding or trim would change the bytes.
const THINKING = 'Let me think… the "report" needs Q3 numbers.\nFirst: read the folder. 🤔';
const SIGNATURE = `EqQBCkYIARgCKkBz${'a1B2c3/+='.repeat(40)}`;
const REDACTED = `EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP${'Zm9v'.repeat(30)}`;
const thinking = (t = THINKING, s = SIGNATURE): ScriptBlock => ({ type: 'thinking', thinking: t, signature: s });
const redacted = (d = REDACTED): ScriptBlock => ({ type: 'redacted_thinking', data: d });

const expectedBlocks = [
  { type: 'thinking', thinking: THINKING, signature: SIGNATURE },
  { type: 'redacted_thinking', data: REDACTED },
];

/** The first assistant message of a request, as raw JSON text of its thinking blocks. */
function thinkingOf(body: any): string {
  const a = body.messages.find((m: any) => m.role === 'assistant');
  return JSON.stringify(a.content.filter((b: any) => b.type.includes('thinking')));
}

it('asks for thinking, keeps thinking blocks exactly across turns and a restart, shows a thought item', async () => {
  server.push(
    {
      content: [thinking(), redacted(), toolUse('write_file', { name: 'a.txt', text: 'hi' })],
      usage: { output_tokens: 700 },
    },
    { content: [text('Done.')], usage: { output_tokens: 5 } },
  );
  h = await startHarness({ modelUrl: server.url, home, tools: testTools(path.join(home, 'files')) });
  const { thread, task } = await h.send('thread.create', { text: 'Write the report' });
  const done = await h.waitTask(task.id, ['done']);

  const first = server.requests[0];
  expect(first.body.thinking).toEqual({ type: 'enabled', budget_tokens: 4096 });
  expect(first.body.max_tokens).toBeGreaterThan(4096);
  expect(String(first.headers['anthropic-beta'])).toContain('interleaved-thinking-2025-05-14');
  // The harness points at a non-Anthropic URL: context management is off ('auto').
  expect(first.body.context_management).toBeUndefined();
  expect(first.body.betas).toBeUndefined();

  // Turn 2 sends the reply back with its thinking first, byte-identical, before the tool_use.
  const second = server.requests[1].body;
  const assistant = second.messages.find((m: any) => m.role === 'assistant');
  expect(assistant.content.map((b: any) => b.type)).toEqual(['thinking', 'redacted_thinking', 'tool_use']);
  expect(thinkingOf(second)).toBe(JSON.stringify(expectedBlocks));

  // Thinking tokens are output tokens: they count in the task's usage (and so its cost).
  expect(done.usage.outputTokens).toBe(705);
  expect(done.costUsd).toBeGreaterThan(0);

  // The phone sees one folded thought with the summary, one for the redacted block.
  const thoughts = h.eventsOf('item.added').filter((e) => e.item.kind === 'thought');
  expect(thoughts.map((e) => e.item)).toEqual([
    expect.objectContaining({ kind: 'thought', taskId: task.id, text: THINKING, ms: expect.any(Number) }),
    expect.objectContaining({ kind: 'thought', taskId: task.id, text: '', redacted: true }),
  ]);
  const got = await h.send('thread.get', { threadId: thread.id });
  expect(got.items.filter((i: any) => i.kind === 'thought')).toHaveLength(2);
  // The conversation never carries the thought items themselves, only the API's blocks.
  expect(JSON.stringify(second.messages)).not.toContain('"kind":"thought"');

  // After a restart, a follow-up sends the same blocks again, byte-identical.
  await h.stop();
  h = await startHarness({ modelUrl: server.url, home, tools: testTools(path.join(home, 'files')) });
  server.push(reply(text('Again.')));
  const { task: t2 } = await h.send('thread.send', { threadId: thread.id, text: 'and now?' });
  await h.waitTask(t2.id, ['done']);
  expect(server.requests).toHaveLength(3);
  expect(thinkingOf(server.requests[2].body)).toBe(JSON.stringify(expectedBlocks));
});

it('a task interrupted mid-tool resumes with its thinking blocks intact', async () => {
  const tools = testTools(path.join(home, 'files'));
  server.push({ content: [thinking(), redacted(), toolUse('slow', { ms: 60_000 })] });
  h = await startHarness({ modelUrl: server.url, home, tools });
  const { task } = await h.send('thread.create', { text: 'wait, then answer' });
  await tools.slowStarted();
  // A clean stop interrupts the task; the next start resumes it (agent.autoResume).
  await h.stop();
  server.push(reply(text('Resumed and done.')));
  h = await startHarness({ modelUrl: server.url, home, tools: testTools(path.join(home, 'files')) });
  await h.waitTask(task.id, ['done'], 20_000);
  const last = server.requests.at(-1)!.body;
  const assistant = last.messages.find((m: any) => m.role === 'assistant');
  expect(assistant.content.map((b: any) => b.type)).toEqual(['thinking', 'redacted_thinking', 'tool_use']);
  expect(thinkingOf(last)).toBe(JSON.stringify(expectedBlocks));
});

it('anthropic.thinking.enabled = false sends no thinking; contextManagement on sends the clear_tool_uses edit', async () => {
  server.push(reply(text('ok')));
  h = await startHarness({
    modelUrl: server.url,
    home,
    config: { anthropic: { thinking: { enabled: false }, contextManagement: 'on' } },
  });
  const { task } = await h.send('thread.create', { text: 'hi' });
  await h.waitTask(task.id, ['done']);
  const r = server.requests[0];
  expect(r.body.thinking).toBeUndefined();
  expect(r.body.context_management.edits[0]).toMatchObject({
    type: 'clear_tool_uses_20250919',
    trigger: { type: 'input_tokens' },
  });
  expect(String(r.headers['anthropic-beta'])).toBe('context-management-2025-06-27');
});

it('sends no thinking to a model without extended thinking', async () => {
  server.push(reply(text('ok')));
  h = await startHarness({ modelUrl: server.url, home, config: { anthropic: { model: 'claude-3-5-haiku-latest' } } });
  const { task } = await h.send('thread.create', { text: 'hi' });
  await h.waitTask(task.id, ['done']);
  expect(server.requests[0].body.thinking).toBeUndefined();
  expect(server.requests[0].headers['anthropic-beta']).toBeUndefined();
});
