// Command round trip through the daemon (auth'd WebSocket, validation, routing) vs a raw `ws`
// echo server in the same run. Target: median within 1.5x of the raw echo.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket, { WebSocketServer } from 'ws';
import { startDaemon } from '../../daemon/src/daemon.js';
import { ms, percentile, report } from './stats.js';

const N = 3000;

async function timeRoundTrips(
  ws: WebSocket,
  make: (id: string) => string,
  idOf: (data: string) => string | undefined,
): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < N + 200; i++) {
    const id = `bench${i.toString().padStart(8, '0')}`;
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const onMessage = (data: WebSocket.RawData) => {
        if (idOf(data.toString()) === id) {
          ws.off('message', onMessage);
          resolve();
        }
      };
      ws.on('message', onMessage);
      ws.send(make(id));
    });
    if (i >= 200) samples.push(performance.now() - t0); // the first 200 warm up
  }
  return samples;
}

export async function benchRoundTrip(): Promise<boolean> {
  // Raw echo baseline.
  const echo = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  echo.on('connection', (s) => s.on('message', (d) => s.send(d.toString())));
  await new Promise((r) => echo.once('listening', r));
  const echoWs = new WebSocket(`ws://127.0.0.1:${(echo.address() as { port: number }).port}`);
  await new Promise((r) => echoWs.once('open', r));
  const raw = await timeRoundTrips(
    echoWs,
    (id) => JSON.stringify({ id, type: 'ping' }),
    (d) => (JSON.parse(d) as { id?: string }).id,
  );
  echoWs.close();
  echo.close();

  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-bench-'));
  const daemon = await startDaemon({ home, env: {}, overrides: { port: 0 } });
  try {
    const { code } = daemon.pairing.mint();
    daemon.pairing.events.once('claim', (c: { id: string }) => daemon.pairing.decide(c.id, true));
    const res = await fetch(`${daemon.url}/api/pair/claim`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code, name: 'bench' }),
    });
    const { token } = (await res.json()) as { token: string };
    const ws = new WebSocket(`${daemon.url.replace('http', 'ws')}/ws`);
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'auth', token }));
    await new Promise((r) => ws.once('message', r));
    const through = await timeRoundTrips(
      ws,
      (id) => JSON.stringify({ id, type: 'ping' }),
      (d) => (JSON.parse(d) as { id?: string }).id,
    );
    ws.close();
    const rawMed = percentile(raw, 50);
    const med = percentile(through, 50);
    console.log(
      `command round trip: daemon median ${ms(med)} p95 ${ms(percentile(through, 95))}; raw ws echo median ${ms(rawMed)} p95 ${ms(percentile(raw, 95))}`,
    );
    return report('round trip vs raw echo (median)', `${(med / rawMed).toFixed(2)}x`, med <= rawMed * 1.5, '<= 1.5x');
  } finally {
    await daemon.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await benchRoundTrip()) ? 0 : 1;
