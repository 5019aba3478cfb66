// "The owner always gets in": what strangers and a runaway device do can slow failing attempts
// down, never keep a valid device out. And a request is judged by its headers before its body.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { WsTestClient } from '../helpers/ws-client.js';

let td: TestDaemon;
const sockets: WebSocket[] = [];
beforeEach(async () => {
  td = await startTestDaemon();
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await td.stop();
});

const closes = new WeakMap<WebSocket, Promise<{ code: number; reason: string }>>();

function opened(url: string, localAddress?: string): Promise<WebSocket> {
  const s = WsTestClient.raw(url, { localAddress });
  sockets.push(s);
  closes.set(
    s,
    new Promise((resolve) => s.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))),
  );
  return new Promise((resolve, reject) => {
    s.once('open', () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends raw bytes and resolves with what the server answers (up to the end of its headers), or 'timeout'. */
function rawRequest(port: number, bytes: string | Buffer, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    function finish(result: string) {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    }
    socket.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) finish(got);
    });
    socket.on('error', () => finish(got || 'error'));
    socket.on('close', () => finish(got || 'closed'));
    socket.write(bytes);
  });
}

describe('the owner always gets in', () => {
  it('idle unauthenticated sockets from one address never keep a valid device out', async () => {
    const { token } = await td.pairDevice();
    const idle = [];
    for (let i = 0; i < 12; i++) idle.push(await opened(td.url));
    // The oldest idle ones made room; the owner, from the same address, still gets in.
    const owner = await WsTestClient.open(td.url, token);
    expect(owner.frames[0]?.type).toBe('auth.ok');
    const refused = await closes.get(idle[0])!;
    expect(refused.reason).toBe('authentication required');
    owner.close();
  });

  it('a crowd of unauthenticated sockets from other addresses makes room from the busiest, not the first comer', async () => {
    const { token } = await td.pairDevice();
    // The owner's socket opens first and has not authenticated yet (its auth frame is on the way).
    const mine = await opened(td.url, '127.0.0.1');
    const crowd = [];
    for (let a = 2; a < 7; a++) for (let i = 0; i < 8; i++) crowd.push(await opened(td.url, `127.0.0.${a}`));
    // 41 sockets for 32 places: nine of the crowd were closed (the oldest of whichever address held
    // the most), never the owner's.
    let refused = 0;
    for (const s of crowd) void closes.get(s)!.then((r) => r.reason === 'authentication required' && refused++);
    const deadline = Date.now() + 5000;
    while (refused < 9 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(refused).toBe(9);
    expect(mine.readyState).toBe(mine.OPEN);
    mine.send(JSON.stringify({ type: 'auth', token }));
    const first = await new Promise<string>((resolve) => mine.once('message', (d) => resolve(d.toString())));
    expect(JSON.parse(first).type).toBe('auth.ok');
  });

  it('one device with many sockets cannot crowd out another; its own oldest socket makes room', async () => {
    const a = await td.pairDevice('Runaway');
    const mine: WsTestClient[] = [];
    for (let i = 0; i < 9; i++) mine.push(await WsTestClient.open(td.url, a.token));
    // The ninth connection closed the device's first one, not itself.
    const first = await mine[0].waitClosed(5000);
    expect(first.reason).toMatch(/too many connections for this device/);
    expect(mine[8].closed).toBeUndefined();
    const b = await td.pairDevice('Owner phone');
    const owner = await WsTestClient.open(td.url, b.token);
    expect(owner.frames[0]?.type).toBe('auth.ok');
    for (const c of [...mine, owner]) c.close();
  });
});

describe('HTTP requests are judged by their headers', () => {
  it('refuses an upload without a token before reading its body', async () => {
    const head =
      `POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1:${td.port}\r\nContent-Type: application/octet-stream\r\n` +
      'Content-Length: 25000000\r\n\r\n';
    // Only 1 KB of the promised 25 MB is sent: the answer must come anyway.
    const answer = await rawRequest(td.port, Buffer.concat([Buffer.from(head), Buffer.alloc(1024)]));
    expect(answer).toMatch(/^HTTP\/1\.1 401/);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(fs.readdirSync(path.join(td.home)).includes('uploads')).toBe(false);
  });

  it('wrong bearer tokens are held back after a few tries; the right one still works', async () => {
    const { token } = await td.pairDevice();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${td.url}/api/file?task=t&path=p`, {
        headers: { authorization: `Bearer ${'x'.repeat(30)}${i}` },
      });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
    const ok = await fetch(`${td.url}/api/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: 'still mine',
    });
    expect(ok.status).toBe(200);
  });

  it('answers a URL it cannot decode with the security headers, and checks Host first', async () => {
    const foreign = await rawRequest(
      td.port,
      'GET /api/%zz HTTP/1.1\r\nHost: evil.example\r\nOrigin: http://evil.example\r\n\r\n',
    );
    expect(foreign).toMatch(/^HTTP\/1\.1 403/);
    expect(foreign).toContain('content-security-policy:');
    const own = await rawRequest(td.port, `GET /api/%zz HTTP/1.1\r\nHost: 127.0.0.1:${td.port}\r\n\r\n`);
    expect(own).toMatch(/^HTTP\/1\.1 400/);
    expect(own).toContain('content-security-policy:');
  });

  it('answers headers too large to read with the security headers', async () => {
    const answer = await rawRequest(
      td.port,
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${td.port}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 431/);
    expect(answer).toContain('Content-Security-Policy:');
    expect(answer).toContain('X-Frame-Options: DENY');
  });
});

describe('uploads no message claimed yet', () => {
  it('are kept across a restart (they were acknowledged), and the message sent after it takes them', async () => {
    const { token } = await td.pairDevice();
    const res = await fetch(`${td.url}/api/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain', 'x-file-name': 'later.txt' },
      body: 'sent after the restart',
    });
    const { id } = (await res.json()) as { id: string };
    const dir = path.join(td.home, 'uploads');
    expect(fs.readdirSync(dir).filter((f) => f.startsWith(id)).length).toBeGreaterThan(0);
    const home = td.home;
    await td.daemon.stop('test');
    td = await startTestDaemon({ home });
    const phone = await td.connect({ token });
    const made = await phone.send<{ thread: { id: string } }>({
      type: 'thread.create',
      text: 'Here is the file',
      attachmentIds: [id],
    });
    expect(made.thread.id).toMatch(/^thr_/);
    // The upload's own files go once the message's record is committed (just after the reply).
    await expect.poll(() => fs.readdirSync(dir).filter((f) => f.startsWith(id))).toEqual([]);
    phone.close();
  });
});

describe('hostile frames', () => {
  it('a command whose type is a deeply nested array gets an error, and the daemon stays up', async () => {
    const phone = await td.connect();
    const depth = 50_000;
    phone.socket.send(`{"id":"bomb0001","type":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    const reply = await phone.waitFor((f) => f.type === 'error' && f.id === 'bomb0001');
    expect(reply).toMatchObject({ code: 'bad_request' });
    expect((await fetch(`${td.url}/healthz`)).ok).toBe(true);
    phone.close();
  });

  it('an unauthenticated socket that starts a large frame is cut before it is buffered', async () => {
    const socket = net.connect(td.port, '127.0.0.1');
    const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${td.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    // A masked text frame declaring 1 MiB (64-bit length), then its bytes 8 KB at a time, until cut.
    const header = Buffer.alloc(14);
    header[0] = 0x81;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(1024 * 1024), 2);
    socket.write(header);
    let sent = 0;
    let cut = false;
    void gone.then(() => {
      cut = true;
    });
    while (!cut && sent < 1024 * 1024) {
      socket.write(Buffer.alloc(8 * 1024, 0x61));
      sent += 8 * 1024;
      await new Promise((r) => setTimeout(r, 5));
    }
    await gone;
    // Cut well before the frame was whole.
    expect(sent).toBeLessThan(256 * 1024);
    expect(socket.destroyed).toBe(true);
  });
});
