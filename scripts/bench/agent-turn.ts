// Agent overhead per model turn, the daemon in its own process: one task of 150 turns where every
// turn reads a ~60 KB file (the scripted model says a line and calls fs_read on the next of 150
// different files, so the runaway check sees progress; 60 KB is one whole fs_read page). Measured on the scripted Messages API server: the gap between one answer's end and
// the next request's arrival, i.e. what the client does between two model calls. Baseline,
// interleaved in the same run: the bare @anthropic-ai/sdk making the daemon's very requests (their
// recorded bodies, so context management shrinks both alike) and reading each asked-for file with
// fs.readFile between them, against the same server. Overhead = daemon gap - bare gap, per turn. Targets (issue #8): median <= 5 ms, and flat:
// turns 130-150 within 1.2x of turns 1-20.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import {
  type ModelServer,
  type RecordedRequest,
  reply,
  startModelServer,
  text,
  toolUse,
} from '../../daemon/test/helpers/model-server.js';
import { type DaemonProcess, startDaemonProcess } from './daemon-process.js';
import { ms, percentile, report } from './stats.js';
import { connectTaskClient, prepareTaskHome } from './tiny-tasks.js';

const TURNS = 150;
const ROUNDS = 5; // per-turn medians over rounds: a collection in one round moves no figure
const LINE = `${'The quick brown fox jumps over the lazy dog; '.repeat(3).slice(0, 139)}\n`;
const fileText = (n: number) => `File ${n}\n${LINE.repeat(425)}`; // ~59.5 KB

const turnsSoFar = (req: RecordedRequest) =>
  (req.body?.messages ?? []).filter((m: { role: string }) => m.role === 'assistant').length;

/** Gaps (ms) between answer end and next arrival over the requests from index `from`, turn by turn. */
function gaps(server: ModelServer, from: number): number[] {
  const r = server.requests.slice(from);
  const out: number[] = [];
  for (let i = 1; i < r.length; i++) out.push(r[i].arrivedHr - (r[i - 1].answeredHr ?? r[i - 1].arrivedHr));
  return out;
}

/** The bare SDK making the daemon's very requests (recorded bodies), reading each asked-for file between them. */
async function direct(server: ModelServer, bodies: Record<string, unknown>[]): Promise<number[]> {
  const t0 = Date.now();
  const client = new Anthropic({ apiKey: 'sk-bench', baseURL: server.url, maxRetries: 0 });
  const from = server.requests.length;
  for (const body of bodies) {
    const { stream: _s, ...params } = body;
    const msg = await client.messages.stream(params as never).finalMessage();
    const use = msg.content.find((b) => b.type === 'tool_use');
    if (use) await fs.promises.readFile((use.input as { path: string }).path, 'utf8');
  }
  process.stdout.write(
    `  the same ${bodies.length} calls with the bare SDK: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  return gaps(server, from);
}

export async function benchAgentTurn(): Promise<boolean> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-bench-turn-'));
  const server = await startModelServer();
  const file = (n: number) => path.join(home, 'workspace', `big-${n}.txt`);
  let limit = TURNS;
  server.setScript((req) => {
    const n = turnsSoFar(req);
    return n < limit ? reply(text(`Reading part ${n}.`), toolUse('fs_read', { path: file(n) })) : reply(text('Done.'));
  });
  let daemon: DaemonProcess | undefined;
  try {
    const token = await prepareTaskHome(home, 3);
    fs.mkdirSync(path.dirname(file(0)), { recursive: true });
    for (let n = 0; n < TURNS; n++) fs.writeFileSync(file(n), fileText(n));
    daemon = await startDaemonProcess(home, { ANTHROPIC_API_KEY: 'sk-bench', ANTHROPIC_BASE_URL: server.url });
    const client = await connectTaskClient(daemon.url, token);
    const throughDaemon = async () => {
      const t0 = Date.now();
      const from = server.requests.length;
      const state = await client.runTask('Read the big files one by one.');
      if (state !== 'done') throw new Error(`the task ended ${state}`);
      const n = server.requests.length - from;
      if (n !== limit + 1) throw new Error(`${n} model calls, expected ${limit + 1}`);
      process.stdout.write(`  a task of ${limit} turns through Errand: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      const bodies = server.requests.slice(from).map((r) => r.body as Record<string, unknown>);
      return { gaps: gaps(server, from), bodies };
    };
    limit = 20;
    await direct(server, (await throughDaemon()).bodies); // warm-up of both paths
    limit = TURNS;

    const d: number[][] = [];
    const b: number[][] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const run = await throughDaemon();
      d.push(run.gaps);
      b.push(await direct(server, run.bodies));
    }
    client.close();
    // Per turn: the median over rounds of each path, then the difference.
    const perTurn = (runs: number[][], t: number) =>
      percentile(
        runs.map((g) => g[t]),
        50,
      );
    const over: number[] = [];
    const dAll: number[] = [];
    const bAll: number[] = [];
    for (let t = 0; t < TURNS; t++) {
      dAll.push(perTurn(d, t));
      bAll.push(perTurn(b, t));
      over.push(dAll[t] - bAll[t]);
    }
    const win = (a: number[], lo: number, hi: number) => percentile(a.slice(lo - 1, hi), 50);
    const med = percentile(over, 50);
    const early = win(over, 1, 20);
    const late = win(over, 130, 150);
    console.log(
      `gap between model calls, median: through Errand ${ms(percentile(dAll, 50))} (turns 1-20 ${ms(win(dAll, 1, 20))}, 130-150 ${ms(win(dAll, 130, 150))}); bare SDK ${ms(percentile(bAll, 50))} (turns 1-20 ${ms(win(bAll, 1, 20))}, 130-150 ${ms(win(bAll, 130, 150))})`,
    );
    console.log(`overhead per turn: median ${ms(med)}; turns 1-20 ${ms(early)}, turns 130-150 ${ms(late)}`);
    const a = report('agent overhead per turn (median)', ms(med), med <= 5, '<= 5 ms');
    const c = report(
      'overhead turns 130-150 vs 1-20',
      `${(late / early).toFixed(2)}x`,
      late <= Math.max(early, 0) * 1.2,
      '<= 1.2x',
    );
    return a && c;
  } finally {
    await daemon?.stop();
    await server.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await benchAgentTurn()) ? 0 : 1;
