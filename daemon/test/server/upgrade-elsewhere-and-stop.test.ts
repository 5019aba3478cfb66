// A WebSocket upgrade asked for anywhere but GET /ws is refused and its socket closed by the daemon
// (Node hands an upgraded socket over and never times it out: one left open was a file descriptor
// lost for good, and a stop that never finished). And a stop always finishes promptly, whatever
// sockets are still open. Against the real `errand start` process, with raw sockets on loopback.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STOP_DEADLINE_MS, stopWithin } from '../../src/cli/commands/start.js';
import { STOP_TIMEOUT_SECONDS } from '../../src/service/units.js';
import { ensureBuilt } from '../agent/build.js';
import { freePort, killChildren, spawnDaemon } from '../helpers/cli.js';
import { tempHome } from '../helpers/daemon.js';

beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 180_000);

const children: ChildProcess[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await killChildren(children);
});

async function start() {
  const home = tempHome('errand-upgrade-elsewhere-');
  const port = await freePort();
  const d = await spawnDaemon({ ERRAND_HOME: home, HOME: home }, port);
  children.push(d.child);
  return { ...d, port };
}

const openFds = (pid: number) => fs.readdirSync(`/proc/${pid}/fd`).length;

function upgradeRequest(method: string, path: string, port: number): string {
  return (
    `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n'
  );
}

/**
 * Sends `bytes` on a new connection and resolves with everything the daemon sent once the daemon
 * itself ends the connection; rejects if it has not within `timeoutMs`.
 */
function answerAndClose(port: number, bytes: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    sockets.push(socket);
    let got = '';
    const timer = setTimeout(
      () => reject(new Error(`the daemon kept the connection open ${timeoutMs} ms; it sent: ${got.split('\r\n')[0]}`)),
      timeoutMs,
    );
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    socket.write(bytes);
  });
}

/** Resolves with the exit once the child is gone; rejects if it is still running after `timeoutMs`. */
function exitWithin(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still running ${timeoutMs} ms after SIGTERM`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, ms: Date.now() - t0 });
    });
  });
}

const ELSEWHERE: [string, string][] = [
  ['POST', '/api/upload'],
  ['PUT', '/api/upload'],
  ['GET', '/api/file?task=t&path=p'],
  ['POST', '/api/pair/claim'],
  ['POST', '/api/push/receipt'],
  ['GET', '/healthz'],
  ['GET', '/no-such-page'],
  ['HEAD', '/ws'],
  ['POST', '/ws'],
];

describe('a WebSocket upgrade anywhere but GET /ws', () => {
  it('is refused and closed by the daemon, on every path and method, and leaves no file descriptor behind', async () => {
    const d = await start();
    const pid = d.child.pid!;
    // Warm up what a first request opens, then count.
    await answerAndClose(d.port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${d.port}\r\nConnection: close\r\n\r\n`);
    const baseline = openFds(pid);
    const rounds = 8;
    for (let i = 0; i < rounds; i++)
      for (const [method, path] of ELSEWHERE) {
        const answer = await answerAndClose(d.port, upgradeRequest(method, path, d.port));
        expect(answer.split('\r\n')[0], `${method} ${path}`).toBe('HTTP/1.1 400 Bad Request');
        if (method !== 'HEAD') expect(answer).toContain('/ws only');
      }
    // Every one of those connections is gone from the daemon too.
    await expect.poll(() => openFds(pid)).toBeLessThanOrEqual(baseline);
    // None of them counted as a failed login: a wrong token is still answered 401, not 429.
    const wrong = await fetch(`${d.url}/api/file?task=t&path=p`, {
      headers: { authorization: `Bearer ${'x'.repeat(43)}` },
    });
    expect(wrong.status).toBe(401);
  });

  it('SIGTERM right after one (its client still connected) stops the daemon promptly', async () => {
    const d = await start();
    const socket = net.connect(d.port, '127.0.0.1');
    sockets.push(socket);
    socket.on('error', () => undefined);
    let got = '';
    socket.on('data', (chunk) => (got += chunk.toString('latin1')));
    socket.write(upgradeRequest('POST', '/api/upload', d.port));
    await expect.poll(() => got).toContain('\r\n\r\n');
    d.child.kill('SIGTERM');
    const exit = await exitWithin(d.child, 10_000);
    expect(exit.code).toBe(0);
  });
});

describe('stopping', () => {
  it('cuts a socket whose peer never answers the close, so SIGTERM still ends the daemon promptly', async () => {
    const d = await start();
    // A query string on /ws is answered with a WebSocket close, which this peer never answers; the
    // socket stays open on both sides (ws itself would wait 30 s for the answer).
    const socket = net.connect(d.port, '127.0.0.1');
    sockets.push(socket);
    socket.on('error', () => undefined);
    let got = '';
    socket.on('data', (chunk) => (got += chunk.toString('latin1')));
    socket.write(upgradeRequest('GET', '/ws?token=nope', d.port));
    await expect.poll(() => got).toContain('no query parameters');
    expect(got.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
    d.child.kill('SIGTERM');
    const exit = await exitWithin(d.child, 8_000);
    expect(exit.code).toBe(0);
  });

  it("gives up on a stop that never finishes at its deadline, inside the service manager's stop timeout", async () => {
    expect(STOP_DEADLINE_MS).toBeLessThan(STOP_TIMEOUT_SECONDS * 1000);
    const t0 = Date.now();
    const stuck = await stopWithin(() => new Promise<void>(() => {}), 300);
    expect(stuck).toEqual({ outcome: 'late' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(await stopWithin(async () => {}, 300)).toEqual({ outcome: 'stopped' });
    const failed = await stopWithin(() => Promise.reject(new Error('disk gone')), 300);
    expect(failed).toMatchObject({ outcome: 'failed', error: { message: 'disk gone' } });
  });
});
