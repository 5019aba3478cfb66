// Command round trip through the daemon (auth'd WebSocket, validation, routing) vs a raw `ws`
// echo server, each in its own process, as a phone meets them. The two are timed in alternating
// blocks in the same run (a phase of the machine touches both alike). Target: median within 1.5x
// of the raw echo.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { homePaths } from '../../daemon/src/config/paths.js';
import { openStore } from '../../daemon/src/store/index.js';
import { startDaemonProcess } from './daemon-process.js';
import { type EchoProcess, startEchoProcess } from './echo-process.js';
import { ms, percentile, report } from './stats.js';

const BLOCKS = 30;
const PER_BLOCK = 100;
/**
 * Round trips on each before timing: the figure is for a daemon that has been running a while, as
 * a phone meets it. Just after a start V8 has not yet optimized the command path: with 200 warm-up
 * trips the daemon's median was 0.12 ms against the echo's 0.07-0.08 (1.5-1.7x); after 3,000,
 * 0.053 against 0.044 ms.
 */
const WARMUP = 3000;

/** `count` sequential round trips of a ping carrying its id; returns each one's time. */
async function roundTrips(ws: WebSocket, count: number, prefix: string): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${prefix}${i.toString().padStart(6, '0')}`;
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const onMessage = (data: WebSocket.RawData) => {
        if ((JSON.parse(data.toString()) as { id?: string }).id === id) {
          ws.off('message', onMessage);
          resolve();
        }
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ id, type: 'ping' }));
    });
    samples.push(performance.now() - t0);
  }
  return samples;
}

async function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
}

export async function benchRoundTrip(): Promise<boolean> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-bench-roundtrip-'));
  let echo: EchoProcess | undefined;
  let daemon: Awaited<ReturnType<typeof startDaemonProcess>> | undefined;
  try {
    const store = await openStore(homePaths(home));
    const { token } = await store.devices.add('bench phone', undefined);
    await store.close();
    [echo, daemon] = await Promise.all([startEchoProcess(), startDaemonProcess(home)]);
    const echoWs = await open(`ws://127.0.0.1:${echo.port}`);
    const ws = await open(`${daemon.url.replace('http', 'ws')}/ws`);
    ws.send(JSON.stringify({ type: 'auth', token }));
    await new Promise((r) => ws.once('message', r));

    await roundTrips(echoWs, WARMUP, 'warm');
    await roundTrips(ws, WARMUP, 'warm');
    const raw: number[] = [];
    const through: number[] = [];
    for (let b = 0; b < BLOCKS; b++) {
      // Alternate which goes first, so neither always follows the other.
      for (const [socket, into] of b % 2
        ? [[ws, through] as const, [echoWs, raw] as const]
        : [[echoWs, raw] as const, [ws, through] as const])
        into.push(...(await roundTrips(socket, PER_BLOCK, `b${b}-`)));
    }
    echoWs.close();
    ws.close();
    const rawMed = percentile(raw, 50);
    const med = percentile(through, 50);
    console.log(
      `command round trip: daemon median ${ms(med)} p95 ${ms(percentile(through, 95))}; raw ws echo median ${ms(rawMed)} p95 ${ms(percentile(raw, 95))} (${BLOCKS} alternating blocks of ${PER_BLOCK})`,
    );
    return report('round trip vs raw echo (median)', `${(med / rawMed).toFixed(2)}x`, med <= rawMed * 1.5, '<= 1.5x');
  } finally {
    await Promise.all([echo?.stop(), daemon?.stop()]);
    fs.rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await benchRoundTrip()) ? 0 : 1;
