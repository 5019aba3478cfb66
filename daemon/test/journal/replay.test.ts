// Replay of a long history to a slow reader: streamed in chunks that wait for the socket to drain
// (no cut-off however far behind, within the replay window), while another client stays responsive.
import { performance } from 'node:perf_hooks';
import { afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ServerFrame } from '../../../shared/src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let td: TestDaemon | undefined;
afterEach(async () => {
  await td?.stop();
  td = undefined;
});

it('a reader 12 MB behind that stops reading for a while gets every event, in order, and is not cut off; another client keeps answering', async () => {
  td = await startTestDaemon();
  const { token } = await td.pairDevice();
  const start = td.daemon.ctx.store.events.lastSeq;
  const text = 'x'.repeat(1000);
  const N = 12_000;
  for (let i = 0; i < N; i += 500)
    await Promise.all(
      Array.from({ length: 500 }, (_, j) =>
        td!.daemon.ctx.emit({ kind: 'notice', level: 'info', text: `${i + j} ${text}`, at: 0 }),
      ),
    );
  const last = td.daemon.ctx.store.events.lastSeq;

  const other = await td.connect({ token });
  const ws = new WebSocket(`${td.url.replace('http', 'ws')}/ws`);
  await new Promise((r) => ws.once('open', r));
  const raw = (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  const seqs: number[] = [];
  let synced = false;
  let closed = false;
  ws.on('close', () => {
    closed = true;
  });
  ws.on('message', (data) => {
    const f = ServerFrame.parse(JSON.parse(data.toString()));
    if (f.type === 'event') seqs.push(f.seq);
    if (f.type === 'synced') synced = true;
  });
  ws.send(JSON.stringify({ type: 'auth', token, lastSeq: start }));
  // A slow phone: read nothing for a while, so the host's send buffer fills.
  raw.pause();
  const pings: number[] = [];
  const until = Date.now() + 1500;
  while (Date.now() < until) {
    const t0 = performance.now();
    await other.send({ type: 'ping' });
    pings.push(performance.now() - t0);
  }
  raw.resume();
  const deadline = Date.now() + 60_000;
  while (!synced && !closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(closed).toBe(false);
  expect(synced).toBe(true);
  expect(seqs.length).toBeGreaterThanOrEqual(last - start);
  expect(seqs.slice(0, last - start)).toEqual(Array.from({ length: last - start }, (_, i) => start + 1 + i));
  expect(pings.length).toBeGreaterThan(5);
  // Generous for a loaded CI machine; a replay in one synchronous loop stalls for far longer.
  expect(Math.max(...pings)).toBeLessThan(1000);
  ws.close();
}, 120_000);
