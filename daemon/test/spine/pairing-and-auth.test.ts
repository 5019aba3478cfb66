// Pairing, first-message auth, Host/Origin checks, rate limiting and revocation, against a real
// daemon on loopback with a real WebSocket client.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { WsTestClient } from '../helpers/ws-client.js';

let td: TestDaemon;
beforeEach(async () => {
  td = await startTestDaemon();
});
afterEach(async () => {
  await td.stop();
});

const claim = (code: string, name = 'Phone') =>
  fetch(`${td.url}/api/pair/claim`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, name }),
  });

function closeOf(ws: ReturnType<typeof WsTestClient.raw>): Promise<{ code: number; reason: string; status?: number }> {
  return new Promise((resolve) => {
    ws.on('unexpected-response', (_req, res) => resolve({ code: -1, reason: 'http', status: res.statusCode }));
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    ws.on('error', () => undefined);
  });
}

describe('health and security headers', () => {
  it('answers /healthz without auth and reveals nothing private', async () => {
    const res = await fetch(`${td.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, name: 'errand', version: expect.any(String) });
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('refuses a foreign Host (DNS rebinding) and a foreign or null Origin', async () => {
    const http = await import('node:http');
    const get = (headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        http.get({ host: '127.0.0.1', port: td.port, path: '/healthz', headers }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
      });
    expect(await get({ host: `rebind.attacker.example:${td.port}` })).toBe(403);
    expect(await get({ host: `127.0.0.1:${td.port}`, origin: 'https://evil.example' })).toBe(403);
    expect(await get({ host: `127.0.0.1:${td.port}`, origin: 'null' })).toBe(403);
    expect(await get({ host: `127.0.0.1:${td.port}`, origin: td.url })).toBe(200);
  });

  it('refuses a WebSocket upgrade from another origin before it opens', async () => {
    const ws = WsTestClient.raw(td.url, { origin: 'https://evil.example' });
    expect(await closeOf(ws)).toMatchObject({ status: 403 });
    const ws2 = WsTestClient.raw(td.url, { headers: { host: 'evil.example' } });
    expect(await closeOf(ws2)).toMatchObject({ status: 403 });
  });
});

describe('pairing', () => {
  it('pairs with a fresh code, stores only the token hash, and the token authenticates', async () => {
    const { token, deviceId } = await td.pairDevice('Pixel 9');
    expect(Buffer.from(token, 'base64url').length).toBeGreaterThanOrEqual(32);
    const fs = await import('node:fs');
    const stored = fs.readFileSync(`${td.home}/store/devices.json`, 'utf8');
    expect(stored).not.toContain(token);
    expect(stored).toContain(deviceId);
    const client = await td.connect({ token });
    const devices = await client.send<Array<{ name: string }>>({ type: 'devices.list' });
    expect(devices.map((d) => d.name)).toEqual(['Pixel 9']);
  });

  it('rejects a reused code and an expired code with a clear message', async () => {
    const { code } = td.mintPairCode();
    td.approveNextClaim();
    expect((await claim(code)).status).toBe(200);
    const reused = await claim(code);
    expect(reused.status).toBe(404);
    expect(((await reused.json()) as { message: string }).message).toMatch(/errand pair/);

    const { code: code2 } = td.mintPairCode();
    const { code: code3 } = td.mintPairCode(); // minting again replaces the live code
    expect((await claim(code2)).status).toBe(404);
    const realNow = Date.now;
    try {
      Date.now = () => realNow() + 6 * 60_000;
      expect((await claim(code3)).status).toBe(404);
    } finally {
      Date.now = realNow;
    }
  });

  it('a declined claim gets no token', async () => {
    const { code } = td.mintPairCode();
    td.daemon.pairing.events.once('claim', (c: { id: string }) => td.daemon.pairing.decide(c.id, false));
    const res = await claim(code);
    expect(res.status).toBe(403);
    expect(JSON.stringify(await res.json())).not.toContain('token');
  });
});

describe('WebSocket authentication', () => {
  it('closes a socket that does not authenticate within the deadline', async () => {
    const ws = WsTestClient.raw(td.url);
    const started = Date.now();
    const closed = await closeOf(ws);
    expect(closed.code).toBe(1008);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4500);
    expect(Date.now() - started).toBeLessThan(7000);
  }, 10_000);

  it('closes on an oversize first frame', async () => {
    const ws = WsTestClient.raw(td.url);
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'auth', token: 'x'.repeat(5000) }));
    expect((await closeOf(ws)).code).toBe(1008);
  });

  it('refuses a wrong token and a token in the URL', async () => {
    await expect(WsTestClient.open(td.url, 'A'.repeat(43))).rejects.toThrow(/4003/);
    const { token } = await td.pairDevice();
    const ws = WsTestClient.raw(td.url, { path: `/ws?token=${token}` });
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'auth', token }));
    const closed = await closeOf(ws);
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/query/);
  });

  it('rate-limits brute force, loopback included, but a valid device token always gets in', async () => {
    const { token } = await td.pairDevice();
    for (let i = 0; i < 10; i++)
      await expect(WsTestClient.open(td.url, `wrong-token-${i}-${'x'.repeat(30)}`)).rejects.toThrow();
    await expect(WsTestClient.open(td.url, `wrong-token-again-${'x'.repeat(30)}`)).rejects.toThrow(/too many/);
    const owner = await WsTestClient.open(td.url, token);
    owner.socket.close();
    const res = await claim('A'.repeat(32));
    expect(res.status).toBe(429);
  });

  it('a flood of idle sockets and failing attempts from many addresses never keeps the paired phone out', async () => {
    const { token } = await td.pairDevice('Owner phone');
    const flood: WebSocket[] = [];
    const open = (address: string) => {
      const ws = new WebSocket(`${td.url.replace(/^http/, 'ws')}/ws`, { localAddress: address });
      ws.on('error', () => undefined);
      flood.push(ws);
      return new Promise<void>((resolve) => {
        ws.once('open', () => resolve());
        ws.once('close', () => resolve());
      });
    };
    try {
      // 80 idle unauthenticated sockets from 16 addresses, and 60 failing auths from 12 more.
      const opened: Promise<void>[] = [];
      for (let a = 0; a < 16; a++) for (let i = 0; i < 5; i++) opened.push(open(`127.0.1.${a + 1}`));
      await Promise.all(opened);
      const failures: Promise<unknown>[] = [];
      for (let a = 0; a < 12; a++)
        for (let i = 0; i < 5; i++) {
          const ws = new WebSocket(`${td.url.replace(/^http/, 'ws')}/ws`, { localAddress: `127.0.2.${a + 1}` });
          ws.on('error', () => undefined);
          flood.push(ws);
          failures.push(
            new Promise((resolve) => {
              ws.once('open', () =>
                ws.send(JSON.stringify({ type: 'auth', token: `bad-${a}-${i}-${'y'.repeat(30)}` })),
              );
              ws.once('close', resolve);
            }),
          );
        }
      await Promise.all(failures);
      // The owner's phone connects in the middle of it and is let in, every time.
      for (let round = 0; round < 3; round++) {
        const phone = await WsTestClient.open(td.url, token);
        expect(phone.closed).toBeUndefined();
        phone.socket.close();
        await open(`127.0.1.${round + 1}`); // the flood keeps coming
      }
    } finally {
      for (const ws of flood) ws.terminate();
    }
  });

  it('revoking a device closes its open sockets at once and its token stops working', async () => {
    const admin = await td.connect();
    const { token, deviceId } = await td.pairDevice('Lost phone');
    const victim = await td.connect({ token });
    const t0 = Date.now();
    await admin.send({ type: 'device.revoke', deviceId });
    const closed = await victim.waitClosed(1000);
    expect(closed.code).toBe(4001);
    expect(Date.now() - t0).toBeLessThan(1000);
    await expect(WsTestClient.open(td.url, token)).rejects.toThrow(/4003/);
  });
});
