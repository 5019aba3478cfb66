// HTTP connections no valid token vouched for are bounded: a flood of connections that never finish
// their headers is closed oldest first, and the owner's request still gets through.
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionGuard } from '../../src/server/connection-guard.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { WsTestClient } from '../helpers/ws-client.js';

const opened: net.Socket[] = [];
let td: TestDaemon | undefined;
let server: http.Server | undefined;
afterEach(async () => {
  for (const s of opened.splice(0)) s.destroy();
  await td?.stop();
  td = undefined;
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Opens a connection from `from` and sends the start of a request it never finishes. */
function unfinished(port: number, from: string, closed: { count: number }): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
    opened.push(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => closed.count++);
    socket.once('connect', () => {
      socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('connections without a valid token', () => {
  it('a flood from one address is closed oldest first, and the owner still gets in', async () => {
    td = await startTestDaemon();
    const { token } = await td.pairDevice();
    const closed = { count: 0 };
    const flood = [];
    for (let i = 0; i < 200; i++) flood.push(await unfinished(td.port, '127.0.0.1', closed));
    // 64 per address are kept; everything older was closed by the daemon.
    await until(() => closed.count >= 200 - 64, 'the daemon to close the oldest connections');
    expect(flood[0].destroyed).toBe(true);
    expect(flood[199].destroyed).toBe(false);
    const res = await fetch(`${td.url}/api/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: 'mine',
    });
    expect(res.status).toBe(200);
    const owner = await WsTestClient.open(td.url, token);
    expect(owner.frames[0]?.type).toBe('auth.ok');
    owner.close();
  });

  it('a flood from many addresses is bounded in all, and makes room from the busiest address', async () => {
    td = await startTestDaemon();
    const closed = { count: 0 };
    const mine = await unfinished(td.port, '127.0.0.1', { count: 0 });
    for (let a = 2; a < 10; a++) for (let i = 0; i < 40; i++) await unfinished(td.port, `127.0.0.${a}`, closed);
    await until(() => closed.count >= 8 * 40 + 1 - 256, 'the daemon to close connections past 256');
    expect(mine.destroyed).toBe(false);
    const health = await fetch(`${td.url}/healthz`);
    expect(health.status).toBe(200);
  });

  it('closes an idle connection before one whose request is in progress', async () => {
    const guard = new ConnectionGuard({ total: 3, perAddress: 3 });
    let release: (() => void) | undefined;
    server = http.createServer((_req, res) => {
      release = () => res.end('done');
    });
    guard.attach(server);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const busy = net.connect(port, '127.0.0.1');
    opened.push(busy);
    const answer = new Promise<string>((resolve) => {
      let got = '';
      busy.on('data', (d) => {
        got += d.toString();
        if (got.includes('done')) resolve(got);
      });
    });
    busy.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    await until(() => release !== undefined, 'the request to arrive');
    const closed = { count: 0 };
    const idle = [];
    for (let i = 0; i < 3; i++) idle.push(await unfinished(port, '127.0.0.1', closed));
    await until(() => closed.count >= 1, 'an idle connection to be closed');
    expect(idle[0].destroyed).toBe(true);
    expect(guard.size).toBe(3);
    release!();
    expect(await answer).toContain('200 OK');
  });
});
