// Replay of 20,000 agent events (item.delta, appended through the store before start) to a client
// resuming that far behind, through the WebSocket of the real daemon in its own process: time from
// the auth frame to `synced`, every event received. Baseline, interleaved in the same run: a raw
// `ws` server in its own process pushing the very same frames to a `ws` client. Meanwhile another
// connected client sends `ping` commands one after another. Targets (issue #8): replay <= 1.3x the
// raw push (median), the other client's ping p99 during the replays <= 50 ms.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import readline from 'node:readline';
import WebSocket from 'ws';
import { homePaths } from '../../daemon/src/config/paths.js';
import { openStore } from '../../daemon/src/store/index.js';
import { type DaemonProcess, startDaemonProcess } from './daemon-process.js';
import { ms, percentile, report } from './stats.js';

const EVENTS = 20_000;
const PER_RECORD = 10;
const ROUNDS = 9;

async function prepareHome(home: string): Promise<string> {
  const store = await openStore(homePaths(home));
  const { token } = await store.devices.add('bench phone', undefined);
  const thread = await store.threads.create('Replay', () => {});
  const delta = 'The agent writes its answer a few words at a time. '.repeat(3);
  for (let n = 0; n < EVENTS / PER_RECORD; n++)
    await store.journal.append(
      [],
      Array.from({ length: PER_RECORD }, (_, i) => ({
        kind: 'item.delta' as const,
        threadId: thread.meta.id,
        taskId: `task-${n}`,
        itemId: `item-${n}-${i}`,
        delta,
      })),
    );
  await store.close();
  return token;
}

async function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  return ws;
}

/** One resume through the daemon: ms from auth to synced, and the event frames received. */
async function daemonReplay(url: string, token: string, lastSeq: number): Promise<{ ms: number; frames: string[] }> {
  const ws = await open(url);
  const frames: string[] = [];
  const t0 = performance.now();
  const took = await new Promise<number>((resolve, reject) => {
    ws.on('message', (data) => {
      const s = data.toString();
      if (s.startsWith('{"type":"event"')) frames.push(s);
      else if (s.includes('"type":"synced"')) resolve(performance.now() - t0);
      else if (s.includes('"type":"snapshot"')) reject(new Error('got a snapshot, not a replay'));
    });
    ws.send(JSON.stringify({ type: 'auth', token, lastSeq }));
  });
  ws.close();
  return { ms: took, frames };
}

/** The raw baseline: a bare `ws` server in its own process that pushes the frames when asked. */
async function startRawPusher(file: string): Promise<{ url: string; stop: () => void }> {
  const wsPath = JSON.stringify(path.dirname(new URL(import.meta.resolve('ws')).pathname));
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `
      import { createRequire } from 'node:module';
      import fs from 'node:fs';
      const { WebSocketServer } = createRequire(${wsPath} + '/')('./index.js');
      const frames = JSON.parse(fs.readFileSync(${JSON.stringify(file)}, 'utf8'));
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      wss.on('connection', (s) => s.on('message', () => { for (const f of frames) s.send(f); }));
      wss.on('listening', () => console.log(wss.address().port));
    `,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<string>((resolve) =>
    readline.createInterface({ input: child.stdout! }).once('line', resolve),
  );
  return { url: `ws://127.0.0.1:${port}`, stop: () => child.kill() };
}

async function rawReplay(url: string, count: number): Promise<number> {
  const ws = await open(url);
  let got = 0;
  const t0 = performance.now();
  const took = await new Promise<number>((resolve) => {
    ws.on('message', () => {
      if (++got === count) resolve(performance.now() - t0);
    });
    ws.send('go');
  });
  ws.close();
  return took;
}

export async function benchReplay(): Promise<boolean> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-bench-replay-'));
  const framesFile = path.join(home, 'frames.json');
  let daemon: DaemonProcess | undefined;
  let raw: { url: string; stop: () => void } | undefined;
  try {
    process.stdout.write(`preparing ${EVENTS} item.delta events…\n`);
    const token = await prepareHome(home);
    daemon = await startDaemonProcess(home);
    const wsUrl = `${daemon.url.replace('http', 'ws')}/ws`;

    // The other client: authenticated, no resume; its auth.ok says the newest seq.
    const other = await open(wsUrl);
    other.send(JSON.stringify({ type: 'auth', token }));
    const newest = await new Promise<number>((r) => other.once('message', (d) => r(JSON.parse(d.toString()).seq)));
    const lastSeq = newest - EVENTS;
    const pongs = new Map<string, () => void>();
    other.on('message', (d) => {
      const f = JSON.parse(d.toString()) as { id?: string };
      if (f.id) pongs.get(f.id)?.();
    });
    let pinging = false;
    const pings: number[] = [];
    let n = 0;
    const pingLoop = async () => {
      while (pinging) {
        const id = `ping-${(++n).toString().padStart(8, '0')}`;
        const t0 = performance.now();
        await new Promise<void>((resolve) => {
          pongs.set(id, () => (pongs.delete(id), resolve()));
          other.send(JSON.stringify({ type: 'ping', id }));
        });
        pings.push(performance.now() - t0);
      }
    };

    const first = await daemonReplay(wsUrl, token, lastSeq); // warm-up, and the frames for the baseline
    if (first.frames.length !== EVENTS) throw new Error(`replayed ${first.frames.length} of ${EVENTS} events`);
    fs.writeFileSync(framesFile, JSON.stringify(first.frames));
    const bytes = first.frames.reduce((a, f) => a + f.length, 0);
    raw = await startRawPusher(framesFile);
    await rawReplay(raw.url, EVENTS); // warm-up

    const d: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      b.push(await rawReplay(raw.url, EVENTS));
      pinging = true;
      const loop = pingLoop();
      const one = await daemonReplay(wsUrl, token, lastSeq);
      pinging = false;
      await loop;
      if (one.frames.length !== EVENTS) throw new Error(`replayed ${one.frames.length} of ${EVENTS} events`);
      d.push(one.ms);
    }
    other.close();
    const dm = percentile(d, 50);
    const bm = percentile(b, 50);
    const p99 = percentile(pings, 99);
    console.log(
      `replay of ${EVENTS} events (${(bytes / 1048576).toFixed(1)} MB): daemon median ${ms(dm)} (${d.map((x) => x.toFixed(0)).join(', ')}); raw ws push median ${ms(bm)} (${b.map((x) => x.toFixed(0)).join(', ')})`,
    );
    console.log(
      `other client's ping during replays: median ${ms(percentile(pings, 50))}, p99 ${ms(p99)}, max ${ms(Math.max(...pings))} (${pings.length} pings)`,
    );
    const a = report('replay vs raw ws push (median)', `${(dm / bm).toFixed(2)}x`, dm <= bm * 1.3, '<= 1.3x');
    const c = report('ping p99 during replay', ms(p99), p99 <= 50, '<= 50 ms');
    return a && c;
  } finally {
    raw?.stop();
    await daemon?.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await benchReplay()) ? 0 : 1;
