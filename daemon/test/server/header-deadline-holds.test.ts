// "Request headers must arrive within 15 s" (docs/protocol.md) holds to the second: Node looks for
// late headers only every connectionsCheckingInterval, and its default (30 s) let a slow client
// keep a connection about 30 s.
import net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

const HEADER_DEADLINE_MS = 15_000;
/** The deadline plus Node's checking interval (1 s) and room for a busy machine. */
const CLOSED_BY_MS = HEADER_DEADLINE_MS + 2_500;

let td: TestDaemon | undefined;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await td?.stop();
  td = undefined;
});

/**
 * Starts a request whose headers never end (`drip`: one more header line every 2 s) and resolves
 * when the daemon closes the connection: after how long, and its answer. Rejects if it is still
 * open at `giveUpMs`.
 */
function slowHeaders(port: number, drip: boolean, giveUpMs: number): Promise<{ ms: number; answer: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    sockets.push(socket);
    const t0 = Date.now();
    let answer = '';
    const dripping = drip ? setInterval(() => socket.write('X-Slow: yes\r\n'), 2_000) : undefined;
    const giveUp = setTimeout(() => {
      clearInterval(dripping);
      reject(new Error(`still open after ${giveUpMs} ms`));
    }, giveUpMs);
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(dripping);
      clearTimeout(giveUp);
      resolve({ ms: Date.now() - t0, answer });
    });
    socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
  });
}

it('closes a connection whose headers are not all there after 15 s, within about a second of it', async () => {
  td = await startTestDaemon();
  const [partial, dripping] = await Promise.all([
    slowHeaders(td.port, false, CLOSED_BY_MS),
    slowHeaders(td.port, true, CLOSED_BY_MS),
  ]);
  for (const closed of [partial, dripping]) {
    expect(closed.ms).toBeGreaterThanOrEqual(HEADER_DEADLINE_MS - 500);
    expect(closed.answer.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
  }
}, 30_000);
