// The context estimate does not take text dense in tokens (CJK, emoji, base64, symbols) for a
// quarter of what it is, while ASCII prose stays near characters / 4; and when the API still says a
// prompt is too long, the daemon shortens the conversation and tries once more instead of failing.
import crypto from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { estimateTokens } from '../../src/agent/context-window.js';
import { TOO_LONG_NOTICE } from '../../src/agent/loop.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { type Harness, startHarness } from './harness.js';

/** `s` repeated to exactly `n` UTF-16 units. */
const fill = (s: string, n: number) => s.repeat(Math.ceil(n / s.length)).slice(0, n);
const tokensOf = (t: string) =>
  estimateTokens({ system: [], tools: [], messages: [{ role: 'user', content: [{ type: 'text', text: t }] }] });

it('estimates dense text at about a token a character or more, and ASCII prose near characters / 4', () => {
  const n = 40_000;
  const cjk = fill('日本語のテキストと中文文本混合', n);
  expect(tokensOf(cjk)).toBeGreaterThanOrEqual(n);
  const emoji = fill('😀🎉🚀', n);
  expect(tokensOf(emoji)).toBeGreaterThanOrEqual(n);
  const base64 = crypto.randomBytes((n * 3) / 4).toString('base64');
  expect(tokensOf(base64)).toBeGreaterThanOrEqual(n / 3);
  const symbols = fill('!@#$%^&*(){}[]<>?/|~`', n);
  expect(tokensOf(symbols)).toBeGreaterThanOrEqual(n / 2);
  const prose = fill('The quick brown fox jumps over the lazy dog, then rests in the shade. ', n);
  expect(tokensOf(prose)).toBeGreaterThanOrEqual(n / 4);
  expect(tokensOf(prose)).toBeLessThanOrEqual((n / 4) * 1.1);
});

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

const tooLong = {
  kind: 'status' as const,
  status: 400,
  errorType: 'invalid_request_error',
  message: 'prompt is too long: 9120 tokens > 8000 maximum',
};
const CONFIG = { anthropic: { contextTokens: 8000, maxTokens: 256, thinking: { enabled: false } } };
const resultTexts = (body: any): string[] =>
  body.messages.flatMap((m: any) =>
    m.content.filter((b: any) => b.type === 'tool_result').map((b: any) => b.content[0].text),
  );

it('shortens the conversation and retries once when the API says the prompt is too long', async () => {
  // Two outputs of ~3k tokens each: within 8,000 by the estimate, which the API (scripted) disputes.
  server.push(
    reply(toolUse('big', { chars: 12_000 })),
    reply(toolUse('big', { chars: 12_000 })),
    tooLong,
    reply(text('Both read.')),
  );
  h = await startHarness({ modelUrl: server.url, config: CONFIG });
  const { thread, task } = await h.send('thread.create', { text: 'read the big outputs' });
  const done = await h.waitTask(task.id, ['done', 'failed']);
  expect(done.reason).toBeUndefined();
  expect(done.resultSummary).toBe('Both read.');
  expect(server.requests).toHaveLength(4);
  // The refused request had both outputs whole; the retry, fitted to a smaller share, shortens the older.
  expect(resultTexts(server.requests[2].body)).toEqual(['x'.repeat(12_000), 'x'.repeat(12_000)]);
  const retried = resultTexts(server.requests[3].body);
  expect(retried[0]).toMatch(/\[older output shortened: 12000 chars\]$/);
  expect(retried[1]).toBe('x'.repeat(12_000));
  expect(estimateTokens(server.requests[3].body)).toBeLessThan(estimateTokens(server.requests[2].body));
  const got = await h.send('thread.get', { threadId: thread.id });
  expect(got.items.filter((i: any) => i.kind === 'notice').map((i: any) => i.text)).toContain(TOO_LONG_NOTICE);
});

it('fails with what to do when the shortened retry is refused as too long again', async () => {
  server.push(reply(toolUse('big', { chars: 12_000 })), tooLong, tooLong, reply(text('never sent')));
  h = await startHarness({ modelUrl: server.url, config: CONFIG });
  const { task } = await h.send('thread.create', { text: 'read the big output' });
  const failed = await h.waitTask(task.id, ['done', 'failed']);
  expect(failed.state).toBe('failed');
  expect(failed.reason).toMatch(
    /^The conversation no longer fits in the model's context: the model API refused it as too long even after Errand shortened it to about [\d,]+ tokens \(anthropic\.contextTokens = 8,000\)\. Start a new thread for the next step\.$/,
  );
  expect(server.requests).toHaveLength(3);
});
