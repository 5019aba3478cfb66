// Tiny tasks per second with 32 in parallel: 32 new threads, each a one-turn task, sent through the
// WebSocket to the real daemon in its own process, until every task.updated says done. Baseline,
// interleaved in the same run against the same scripted Messages API server: 32 concurrent bare
// @anthropic-ai/sdk stream calls. Target (issue #8): >= 0.5x the bare SDK's calls per second.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Anthropic from '@anthropic-ai/sdk';
import WebSocket from 'ws';
import { homePaths } from '../../daemon/src/config/paths.js';
import { openStore } from '../../daemon/src/store/index.js';
import { reply, startModelServer, text } from '../../daemon/test/helpers/model-server.js';
import { type DaemonProcess, startDaemonProcess } from './daemon-process.js';
import { report } from './stats.js';

const PARALLEL = 32;
// The daemon is a login service that runs for days, so its code is warm when tasks come. Warm is
// reached late: V8 optimizes, deoptimizes and optimizes again the daemon's larger functions over
// its first ~2,000 tasks (CPU per task 4.7 ms over the first 500, 3.0 over the next, 2.0 from
// 2,000 on), and the bare SDK also keeps speeding up over its first thousand calls. So both sides
// warm up on 2,048 calls first. A batch of 32 takes 20-60 ms and its rate swings 2x from one
// batch to the next, so a round times four batches back to back; the rounds alternate the two
// sides and are compared by their medians.
const WARMUP_ROUNDS = 16;
const ROUNDS = 12;
const BATCHES_PER_ROUND = 4;
const MODEL = 'claude-sonnet-4-6';

/** A process's CPU time so far (user + system, ms) from /proc; 0 where there is none. */
function processCpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

/** A paired client on the daemon's WebSocket that runs one-turn tasks and waits for them to end. */
export async function connectTaskClient(url: string, token: string) {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  ws.send(JSON.stringify({ type: 'auth', token }));
  await new Promise((r) => ws.once('message', r));
  const replies = new Map<
    string,
    (f: { type: string; result?: { task?: { id: string } }; message?: string }) => void
  >();
  const ended = new Map<string, (state: string) => void>();
  const endedEarly = new Map<string, string>();
  ws.on('message', (data) => {
    const f = JSON.parse(data.toString());
    if ((f.type === 'reply' || f.type === 'error') && f.id) replies.get(f.id)?.(f);
    const t = f.event?.kind === 'task.updated' ? f.event.task : undefined;
    if (t && !['queued', 'running', 'waiting'].includes(t.state)) {
      const done = ended.get(t.id);
      if (done) done(t.state);
      else endedEarly.set(t.id, t.state);
    }
  });
  let n = 0;
  const command = (body: Record<string, unknown>) => {
    const id = `bench-${(++n).toString().padStart(8, '0')}`;
    return new Promise<{ type: string; result?: { task?: { id: string } }; message?: string }>((resolve) => {
      replies.set(id, (f) => (replies.delete(id), resolve(f)));
      ws.send(JSON.stringify({ ...body, id }));
    });
  };
  /** A new thread with one task; resolves with the task's final state. */
  const runTask = async (textIn: string): Promise<string> => {
    const f = await command({ type: 'thread.create', text: textIn });
    const taskId = f.result?.task?.id;
    if (!taskId) throw new Error(`thread.create: ${f.message ?? JSON.stringify(f)}`);
    const early = endedEarly.get(taskId);
    if (early) return (endedEarly.delete(taskId), early);
    return new Promise<string>((resolve) => ended.set(taskId, (s) => (ended.delete(taskId), resolve(s))));
  };
  return { ws, command, runTask, close: () => ws.close() };
}

/** A home with config for the scripted model, many parallel tasks, and one paired device. */
export async function prepareTaskHome(home: string, maxParallelTasks = PARALLEL): Promise<string> {
  fs.writeFileSync(
    path.join(home, 'config.json'),
    JSON.stringify({ anthropic: { model: MODEL }, agent: { maxParallelTasks, maxTurns: 1000 } }),
  );
  const store = await openStore(homePaths(home));
  const { token } = await store.devices.add('bench phone', undefined);
  await store.close();
  return token;
}

export async function benchTinyTasks(): Promise<boolean> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-bench-tiny-'));
  const server = await startModelServer();
  server.setScript(() => reply(text('Done.')));
  let daemon: DaemonProcess | undefined;
  try {
    const token = await prepareTaskHome(home);
    daemon = await startDaemonProcess(home, { ANTHROPIC_API_KEY: 'sk-bench', ANTHROPIC_BASE_URL: server.url });
    const client = await connectTaskClient(daemon.url, token);
    const sdk = new Anthropic({ apiKey: 'sk-bench', baseURL: server.url, maxRetries: 0 });

    const sdkRound = async () => {
      const t0 = performance.now();
      for (let b = 0; b < BATCHES_PER_ROUND; b++)
        await Promise.all(
          Array.from({ length: PARALLEL }, (_, i) =>
            sdk.messages
              .stream({ model: MODEL, max_tokens: 8192, messages: [{ role: 'user', content: `task ${i}` }] })
              .finalMessage(),
          ),
        );
      return (BATCHES_PER_ROUND * PARALLEL) / ((performance.now() - t0) / 1000);
    };
    const daemonRound = async () => {
      const t0 = performance.now();
      for (let b = 0; b < BATCHES_PER_ROUND; b++) {
        const states = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => client.runTask(`tiny task ${i}`)));
        const bad = states.filter((s) => s !== 'done');
        if (bad.length) throw new Error(`${bad.length} tasks ended ${bad[0]}`);
      }
      return (BATCHES_PER_ROUND * PARALLEL) / ((performance.now() - t0) / 1000);
    };
    // Warm-up (JIT, sockets, the daemon's first tasks), then rounds alternating the two.
    for (let w = 0; w < WARMUP_ROUNDS; w++) {
      await sdkRound();
      await daemonRound();
    }
    const s: number[] = [];
    const d: number[] = [];
    // CPU time, which the machine's load disturbs less than rates: the daemon's per task, and this
    // process's per bare call (the SDK and the scripted server both run here).
    let daemonCpu = 0;
    let sdkCpu = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const c0 = process.cpuUsage();
      s.push(await sdkRound());
      const c1 = process.cpuUsage(c0);
      sdkCpu += (c1.user + c1.system) / 1000;
      const p0 = processCpuMs(daemon.pid);
      d.push(await daemonRound());
      daemonCpu += processCpuMs(daemon.pid) - p0;
    }
    client.close();
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
    const sm = med(s);
    const dm = med(d);
    console.log(
      `${PARALLEL} parallel: through Errand median ${dm.toFixed(1)} tasks/s (${d.map((x) => x.toFixed(0)).join(', ')}); bare SDK median ${sm.toFixed(1)} calls/s (${s.map((x) => x.toFixed(0)).join(', ')})`,
    );
    if (daemonCpu > 0)
      console.log(
        `CPU: daemon ${(daemonCpu / (ROUNDS * BATCHES_PER_ROUND * PARALLEL)).toFixed(2)} ms per task; bench process ${(sdkCpu / (ROUNDS * BATCHES_PER_ROUND * PARALLEL)).toFixed(2)} ms per bare call (SDK and scripted server)`,
      );
    return report('tiny tasks/s vs bare SDK calls/s', `${(dm / sm).toFixed(2)}x`, dm >= sm * 0.5, '>= 0.5x');
  } finally {
    await daemon?.stop();
    await server.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await benchTinyTasks()) ? 0 : 1;
