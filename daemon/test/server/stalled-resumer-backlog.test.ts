// A client resumes from seq 0 against a long history and stops reading: its replay cannot go on,
// and the live events meanwhile wait for it. Once they pass 8 MB it is cut (it resumes later from
// its last seq), so one stalled reader cannot make the host hold every later event; pongs it sends
// unasked do not keep it. Another device reading along gets every event.

import { afterEach, beforeEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import type { WsTestClient } from '../helpers/ws-client.js';

let td: TestDaemon;
const stops: Array<() => void> = [];
beforeEach(async () => {
  td = await startTestDaemon();
});
afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  await td.stop();
});

const noticesSeen = (c: WsTestClient) => c.events().filter((f) => f.event.kind === 'notice').length;

/** `count` notices of 100 KB, ten at a time, each ten once `reader` has them (it must not fall 8 MB behind either). */
async function notices(reader: WsTestClient, count: number, tag: string): Promise<void> {
  for (let i = 0; i < count; i += 10) {
    const seen = noticesSeen(reader);
    await Promise.all(
      Array.from({ length: 10 }, (_, j) =>
        td.daemon.ctx.emit({
          kind: 'notice',
          level: 'info',
          text: `${tag} ${i + j} ${'n'.repeat(100_000)}`,
          at: Date.now(),
        }),
      ),
    );
    await expect.poll(() => noticesSeen(reader)).toBe(seen + 10);
  }
}

/** Authenticates with lastSeq 0, then never reads a byte; sends a pong every 50 ms unasked. */
async function stalledResumer(token: string): Promise<void> {
  const socket = new WebSocket(`${td.url.replace(/^http/, 'ws')}/ws`);
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  (socket as unknown as { _socket: import('node:net').Socket })._socket.pause();
  const pongs = setInterval(() => socket.readyState === WebSocket.OPEN && socket.pong(Buffer.from('unasked')), 50);
  stops.push(() => {
    clearInterval(pongs);
    socket.terminate();
  });
  socket.send(JSON.stringify({ type: 'auth', token, lastSeq: 0 }));
}

it('a resumer that stopped reading is cut once the live events held for it pass 8 MB; a reader gets them all', async () => {
  const reader = await td.connect();
  await notices(reader, 120, 'history'); // about 12 MB: more than the kernel's buffers and the replay's high-water mark
  const stalled = await td.pairDevice('Stalled');
  await stalledResumer(stalled.token);
  await expect.poll(() => td.daemon.gateway.online(stalled.deviceId)).toBe(true);
  await new Promise((r) => setTimeout(r, 500)); // its replay fills the socket and waits
  expect(td.daemon.gateway.online(stalled.deviceId)).toBe(true);

  await notices(reader, 100, 'live'); // about 10 MB while its replay waits
  // Cut well before the replay's own stall time (30 s) could do it: by the bytes held.
  await expect.poll(() => td.daemon.gateway.online(stalled.deviceId), { timeout: 5000, interval: 50 }).toBe(false);
  expect(noticesSeen(reader)).toBe(220);
  expect(reader.closed).toBeUndefined();
}, 60_000);
