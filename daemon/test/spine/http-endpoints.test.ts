// Pairing that waits for a person, and uploads of any file type.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let td: TestDaemon;
beforeEach(async () => {
  td = await startTestDaemon();
});
afterEach(async () => {
  await td.stop();
});

describe('pairing claim', () => {
  it('waits for a decision made seconds later (as a person at the terminal does)', async () => {
    const { code } = td.mintPairCode();
    td.daemon.pairing.events.once('claim', (c: { id: string }) =>
      setTimeout(() => td.daemon.pairing.decide(c.id, true), 1500),
    );
    const res = await fetch(`${td.url}/api/pair/claim`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code, name: 'Slow approver' }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { token: string }).token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('drops the claim when the phone stops waiting', async () => {
    const { code } = td.mintPairCode();
    const claimed = new Promise((r) => td.daemon.pairing.events.once('claim', r));
    const abort = new AbortController();
    const req = fetch(`${td.url}/api/pair/claim`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code, name: 'Gone' }),
      signal: abort.signal,
    }).catch(() => 'aborted');
    await claimed;
    expect(td.daemon.pairing.pendingClaims()).toHaveLength(1);
    abort.abort();
    expect(await req).toBe('aborted');
    for (let i = 0; i < 50 && td.daemon.pairing.pendingClaims().length; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(td.daemon.pairing.pendingClaims()).toHaveLength(0);
    expect(td.daemon.ctx.store.devices.list()).toHaveLength(0);
  });
});

describe('uploads', () => {
  for (const [type, body] of [
    ['text/plain', 'plain notes\n'],
    ['application/json', '{"a": 1}'],
    ['image/png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3])],
  ] as const) {
    it(`accepts a ${type} file byte for byte`, async () => {
      const { token } = await td.pairDevice();
      const res = await fetch(`${td.url}/api/upload`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': type,
          'x-filename': encodeURIComponent('my file.bin'),
        },
        body,
      });
      expect(res.status).toBe(200);
      const u = (await res.json()) as { id: string; size: number; mediaType: string; name: string };
      expect(u).toMatchObject({ size: Buffer.byteLength(body), mediaType: type, name: 'my file.bin' });
      const deviceId = td.daemon.ctx.store.devices.list()[0].id;
      const stored = td.daemon.ctx.uploads.claim(u.id, deviceId)!;
      const fs = await import('node:fs');
      expect(fs.readFileSync(stored.file).equals(Buffer.from(body))).toBe(true);
    });
  }

  it('keeps only a plain type/subtype as an upload media type; anything else is bytes', async () => {
    const { token } = await td.pairDevice();
    /** The media type kept, or the HTTP status when the upload was refused outright. */
    const send = async (type: string) => {
      const res = await fetch(`${td.url}/api/upload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': type },
        body: 'x',
      });
      return res.ok ? ((await res.json()) as { mediaType: string }).mediaType : res.status;
    };
    expect(await send('Image/PNG; charset=binary')).toBe('image/png');
    for (const odd of ['image/png" onerror="alert(1)', `text/${'x'.repeat(90)} ignore previous instructions`]) {
      const kept = await send(odd);
      expect(kept === 'application/octet-stream' || (typeof kept === 'number' && kept >= 400 && kept < 500)).toBe(true);
    }
  });

  it('refuses an upload without a device token, and a token in the URL does not count', async () => {
    const { token } = await td.pairDevice();
    const res = await fetch(`${td.url}/api/upload?token=${token}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(res.status).toBe(401);
  });
});

describe('the phone app files', () => {
  it('serves the built app: the page, hashed assets cached for good, the service worker always fresh', async () => {
    const fs = await import('node:fs');
    const { PWA_DIST } = await import('../../src/server/app.js');
    const index = await fetch(`${td.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await index.text()).toBe(fs.readFileSync(`${PWA_DIST}/index.html`, 'utf8'));

    const asset = fs.readdirSync(`${PWA_DIST}/assets`).find((f) => f.endsWith('.js'))!;
    const js = await fetch(`${td.url}/assets/${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(js.headers.get('cache-control')).toContain('immutable');

    const sw = await fetch(`${td.url}/sw.js`);
    expect(sw.status).toBe(200);
    expect(sw.headers.get('cache-control')).toBe('no-cache');
    const manifest = await fetch(`${td.url}/manifest.webmanifest`);
    expect(manifest.headers.get('content-type')).toBe('application/manifest+json');

    // App routes get the page; missing files and paths outside the folder do not exist.
    expect(await (await fetch(`${td.url}/threads/anything`)).text()).toContain('<html');
    expect((await fetch(`${td.url}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${td.url}/api/nothing`)).status).toBe(404);
    const http = await import('node:http');
    const raw = (p: string) =>
      new Promise<number>((resolve) => {
        http.get({ host: '127.0.0.1', port: td.port, path: p }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
      });
    expect(await raw('/../package.json')).toBe(404);
    expect(await raw('/%2e%2e/%2e%2e/package.json')).toBe(404);
    expect(await raw('/%E0%A4%A')).toBe(400);
  });

  it('sends the precompressed copy the browser accepts (brotli, then gzip), never by its own name', async () => {
    const fs = await import('node:fs');
    const http = await import('node:http');
    const zlib = await import('node:zlib');
    const { PWA_DIST } = await import('../../src/server/app.js');
    const asset = fs
      .readdirSync(`${PWA_DIST}/assets`)
      .find((f) => f.endsWith('.js') && fs.existsSync(`${PWA_DIST}/assets/${f}.br`))!;
    expect(asset).toBeDefined();
    const original = fs.readFileSync(`${PWA_DIST}/assets/${asset}`);
    const get = (p: string, acceptEncoding?: string) =>
      new Promise<{ status: number; headers: import('node:http').IncomingHttpHeaders; body: Buffer }>((resolve) => {
        http.get(
          {
            host: '127.0.0.1',
            port: td.port,
            path: p,
            headers: acceptEncoding ? { 'accept-encoding': acceptEncoding } : {},
          },
          (res) => {
            const parts: Buffer[] = [];
            res.on('data', (c: Buffer) => parts.push(c));
            res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
          },
        );
      });
    const br = await get(`/assets/${asset}`, 'gzip, deflate, br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toMatch(/Accept-Encoding/i);
    expect(br.body.length).toBeLessThan(original.length);
    expect(zlib.brotliDecompressSync(br.body).equals(original)).toBe(true);
    const gz = await get(`/assets/${asset}`, 'gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(gz.body).equals(original)).toBe(true);
    const refusedBr = await get(`/assets/${asset}`, 'br;q=0, gzip');
    expect(refusedBr.headers['content-encoding']).toBe('gzip');
    const plain = await get(`/assets/${asset}`);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.equals(original)).toBe(true);
    // The page itself too; the compressed copies are not files of their own.
    expect((await get('/', 'br')).headers['content-encoding']).toBe('br');
    expect((await get(`/assets/${asset}.br`, 'br')).status).toBe(404);
  });
});

describe('the WebSocket address', () => {
  it('answers a plain GET with the usual error body, and still takes the app’s connection', async () => {
    const res = await fetch(`${td.url}/ws`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'bad_request',
      message: 'This address takes WebSocket connections only (the app opens one).',
    });
    const phone = await td.connect();
    expect(await phone.send({ type: 'threads.list' })).toEqual([]);
  });
});
