// "allowedHosts": extra host names Errand answers to (README). Opened by such a name, the app's own
// requests and its WebSocket come from that name's origin: on the daemon's port, or through an
// https proxy that keeps the Host. They are accepted, so the app that loads there also connects;
// another site's origin is still refused, and the name is never offered (pairing links, status).
import http from 'node:http';
import { afterEach, beforeEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let td: TestDaemon;
beforeEach(async () => {
  td = await startTestDaemon({ config: { allowedHosts: ['MyBox.lan', 'errand.example:8443'] } });
});
afterEach(async () => {
  await td.stop();
});

/** A request to the daemon as a browser sends it from `origin`, naming `host`. */
function request(path: string, host: string, origin?: string, method = 'GET'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: td.port, path, method, headers: { host, ...(origin ? { origin } : {}) } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A WebSocket from `origin` naming `host`, authenticated with a device token: 'auth.ok' or the refusal. */
function socketAuth(host: string, origin: string, token: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${td.port}/ws`, { origin, headers: { host } });
    ws.once('unexpected-response', (_req, res) => {
      resolve(`refused ${res.statusCode}`);
      ws.terminate();
    });
    ws.once('error', (err) => resolve(`error ${err.message}`));
    ws.once('open', () => ws.send(JSON.stringify({ type: 'auth', token })));
    ws.once('message', (data) => {
      resolve((JSON.parse(data.toString()) as { type: string }).type);
      ws.close();
    });
  });
}

it("the app opened at an allowed name on the daemon's port connects: its requests and WebSocket are accepted", async () => {
  const { token } = await td.pairDevice();
  const host = `mybox.lan:${td.port}`;
  const origin = `http://mybox.lan:${td.port}`;
  expect(await request('/', host)).toBe(200);
  expect(await request('/healthz', host, origin)).toBe(200);
  // The app's own POST (a pairing claim with a spent code): answered, not refused as another site's.
  expect(await request('/api/pair/claim', host, origin, 'POST')).not.toBe(403);
  expect(await socketAuth(host, origin, token)).toBe('auth.ok');
});

it('through an https proxy that keeps the Host (default port), and at a name given with its own port', async () => {
  const { token } = await td.pairDevice();
  expect(await socketAuth('mybox.lan', 'https://mybox.lan', token)).toBe('auth.ok');
  expect(await socketAuth('errand.example:8443', 'https://errand.example:8443', token)).toBe('auth.ok');
});

it("another site's origin stays refused at an allowed name, and the name is never offered", async () => {
  const { token } = await td.pairDevice();
  const host = `mybox.lan:${td.port}`;
  expect(await request('/healthz', host, `http://evil.example:${td.port}`)).toBe(403);
  expect(await request('/healthz', host, 'null')).toBe(403);
  expect(await socketAuth(host, `http://evil.example:${td.port}`, token)).toBe('refused 403');
  // A page at another port of that name is another site too.
  expect(await socketAuth(host, `http://mybox.lan:${td.port + 1}`, token)).toBe('refused 403');
  // Pairing links and status name only the daemon's own addresses.
  expect(td.daemon.url).toBe(`http://127.0.0.1:${td.port}`);
  expect(td.daemon.ctx.origins().some((o) => o.includes('mybox') || o.includes('errand.example'))).toBe(false);
  expect(td.daemon.ctx.listening().some((o) => o.includes('mybox') || o.includes('errand.example'))).toBe(false);
});
