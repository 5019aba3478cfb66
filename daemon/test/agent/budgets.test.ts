// Each budget ends a runaway task as failed, with the reason in words.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type ModelServer, reply, startModelServer, toolUse } from '../helpers/model-server.js';
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

const forever = (usage?: { input_tokens?: number; output_tokens?: number }) => () => ({
  ...reply(toolUse('write_file', { name: 'loop.txt', text: 'again' })),
  usage,
});

it('stops after agent.maxTurns turns', async () => {
  server.setScript(forever());
  h = await startHarness({ modelUrl: server.url, config: { agent: { maxTurns: 3 } } });
  const { task } = await h.send('thread.create', { text: 'loop' });
  const failed = await h.waitTask(task.id, ['failed']);
  expect(failed.reason).toBe('Stopped after 3 turns (limit: agent.maxTurns = 3).');
  expect(failed.turns).toBe(3);
  expect(server.requests).toHaveLength(3);
});

it('stops after agent.maxOutputTokens output tokens', async () => {
  server.setScript(forever({ output_tokens: 700 }));
  h = await startHarness({ modelUrl: server.url, config: { agent: { maxOutputTokens: 1000 } } });
  const { task } = await h.send('thread.create', { text: 'loop' });
  const failed = await h.waitTask(task.id, ['failed']);
  expect(failed.reason).toBe('Stopped after 1,400 output tokens (limit: agent.maxOutputTokens = 1,000).');
  expect(failed.usage.outputTokens).toBe(1400);
  expect(server.requests).toHaveLength(2);
});

it('stops after agent.maxCostUsd', async () => {
  // 10,000 input tokens at Sonnet's $3/M = $0.03 per turn.
  server.setScript(forever({ input_tokens: 10_000, output_tokens: 1 }));
  h = await startHarness({ modelUrl: server.url, config: { agent: { maxCostUsd: 0.05 } } });
  const { task } = await h.send('thread.create', { text: 'loop' });
  const failed = await h.waitTask(task.id, ['failed']);
  expect(failed.reason).toBe('Stopped after spending about $0.06 (limit: agent.maxCostUsd = $0.05).');
  expect(failed.costUsd).toBeCloseTo(0.06, 3);
});

it('stops after agent.maxWallMinutes, even in the middle of a model call', async () => {
  server.setScript(() => ({ kind: 'hang' }));
  h = await startHarness({ modelUrl: server.url, config: { agent: { maxWallMinutes: 0.01 } } });
  const t0 = Date.now();
  const { task } = await h.send('thread.create', { text: 'hang' });
  const failed = await h.waitTask(task.id, ['failed']);
  expect(Date.now() - t0).toBeLessThan(2000);
  expect(failed.reason).toBe('Stopped after 1 second of work (limit: agent.maxWallMinutes = 0.01).');
});
