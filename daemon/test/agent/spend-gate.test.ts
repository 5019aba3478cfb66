// A spending cap holds for tasks already waiting their turn: when the tasks before one spent the
// day's budget, it does not start when its turn comes, and says why.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startSpend } from '../../src/spend/index.js';
import { type ModelServer, startModelServer, text } from '../helpers/model-server.js';
import { type Harness, startHarness, testTools } from './harness.js';

let server: ModelServer;
let h: Harness | undefined;
const stops: Array<() => Promise<void>> = [];
beforeEach(async () => {
  server = await startModelServer();
});
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
  await h?.cleanup();
  h = undefined;
  await server.close();
});

it('a queued task does not start once the daily cap is reached', async () => {
  // 10,000 input tokens on Sonnet: $0.03, over the $0.02 cap. Streamed slowly, so B is queued meanwhile.
  server.push({
    content: [text('An expensive answer, word by word.')],
    usage: { input_tokens: 10_000, output_tokens: 0 },
    chunkDelayMs: 30,
  });
  const tools = testTools(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-gate-')), 'files'));
  h = await startHarness({
    modelUrl: server.url,
    config: { spend: { dailyUsd: 0.02 }, agent: { maxParallelTasks: 1 } } as never,
    tools,
  });
  const spend = h.add(startSpend(h.ctx, h.agent));
  stops.push(() => spend.stop());
  const a = await h.send('thread.create', { text: 'Think hard' });
  const b = await h.send('thread.create', { text: 'And this too' });
  expect((await h.waitTask(a.task.id, ['done'])).state).toBe('done');
  const held = await h.waitTask(b.task.id, ['failed']);
  expect(held.reason).toMatch(/^Today's spending cap is reached \(\$0\.03 of \$0\.02\)/);
  expect(server.requests).toHaveLength(1);
});
