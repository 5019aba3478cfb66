// The daemon's own overhead per agent turn: a multi-turn task through the agent module (durable
// checkpoints, tool step records, events, a no-op tool) vs the same scripted model calls made
// directly with the SDK, in the same run against the same local Messages API server.
// Measured on the server: the time between one request's arrival and the next one's.
// Target: under 10 ms added per turn (median).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Anthropic from '@anthropic-ai/sdk';
import { askUserTool, systemPrompt } from '../../daemon/src/agent/prompt.js';
import { writeFileDurably } from '../../daemon/src/store/durable-file.js';
import { startHarness } from '../../daemon/test/agent/harness.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { ms, percentile, report } from './stats.js';

const TURNS = 40;
/** Rounds alternate the two paths, so a busy machine's noise falls on both alike. */
const ROUNDS = 5;
const MODEL = 'claude-sonnet-4-6';

function intervals(server: ModelServer, from: number): number[] {
  const r = server.requests.slice(from);
  const out: number[] = [];
  for (let i = 1; i < r.length; i++) out.push(r[i].arrivedHr - r[i - 1].arrivedHr);
  return out;
}

async function direct(server: ModelServer, turns: number): Promise<number[]> {
  const h = await startHarness({ modelUrl: server.url }); // only for the same tool definitions and prompt
  const tools = [...h.tools.runtime.definitions(), askUserTool].map((t, i, all) =>
    i === all.length - 1 ? { ...t, cache_control: { type: 'ephemeral' } } : t,
  );
  const system = systemPrompt(h.tools.runtime, { workspace: h.ctx.paths.workspace });
  await h.cleanup();
  const client = new Anthropic({ apiKey: 'sk-bench', baseURL: server.url, maxRetries: 0 });
  const messages: any[] = [{ role: 'user', content: [{ type: 'text', text: 'go' }] }];
  let n = 0;
  server.setScript(() => (++n < turns ? reply(toolUse('big', { chars: 10 })) : reply(text('done'))));
  const from = server.requests.length;
  for (let i = 0; i < turns; i++) {
    const msg = await client.messages
      .stream({ model: MODEL, max_tokens: 8192, system, tools, messages } as never)
      .finalMessage();
    const use = msg.content.find((b) => b.type === 'tool_use');
    if (!use) break;
    messages.push(
      { role: 'assistant', content: msg.content },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: use.id, content: [{ type: 'text', text: 'x'.repeat(10) }] }],
      },
    );
  }
  return intervals(server, from);
}

async function throughDaemon(server: ModelServer, turns: number): Promise<{ perTurn: number[]; home: string }> {
  const h = await startHarness({
    modelUrl: server.url,
    config: { anthropic: { model: MODEL }, agent: { maxTurns: 1000 } },
  });
  let n = 0;
  server.setScript(() => (++n < turns ? reply(toolUse('big', { chars: 10 })) : reply(text('done'))));
  const from = server.requests.length;
  const { task } = await h.send('thread.create', { text: 'go' });
  const done = await h.waitTask(task.id, ['done', 'failed'], 300_000);
  if (done.state !== 'done') throw new Error(`the task failed: ${done.reason}`);
  const perTurn = intervals(server, from);
  await h.cleanup();
  return { perTurn, home: h.home };
}

/** The disk's floor for context: one durable write (temp file, fsync, rename, fsync folder) of a small file. */
async function durableWrite(): Promise<number[]> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'errand-bench-fsync-'));
  const out: number[] = [];
  try {
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      await writeFileDurably(path.join(dir, 'f.json'), JSON.stringify({ i, pad: 'x'.repeat(20_000) }));
      out.push(performance.now() - t0);
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  return out;
}

const server = await startModelServer();
try {
  // Warm up both paths (JIT, sockets), then measure.
  await direct(server, 20);
  await throughDaemon(server, 20);
  const d: number[] = [];
  const a: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    d.push(...(await direct(server, TURNS)));
    a.push(...(await throughDaemon(server, TURNS)).perTurn);
  }
  const w = await durableWrite();
  console.log(
    `  one durable thread write on this disk: median ${ms(percentile(w, 50))} (a tool turn makes one, the checkpoint, plus a step-journal append for "started")`,
  );
  const dMed = percentile(d, 50);
  const aMed = percentile(a, 50);
  console.log(`  direct SDK, per turn:    median ${ms(dMed)}, p95 ${ms(percentile(d, 95))} (${d.length} turns)`);
  console.log(`  through Errand, per turn: median ${ms(aMed)}, p95 ${ms(percentile(a, 95))} (${a.length} turns)`);
  const ok = report('agent overhead per turn (median added)', ms(aMed - dMed), aMed - dMed < 10, '< 10 ms');
  process.exitCode = ok ? 0 : 1;
} finally {
  await server.close();
}
