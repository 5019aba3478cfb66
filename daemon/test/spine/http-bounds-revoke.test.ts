// The HTTP API against hostile or stolen devices: downloads are streamed (never held whole) and
// bounded in number, every failure answers the documented {error, message} shape (an
// internal one is logged, its detail kept off the wire), and revoking a device cuts off the uploads
// and downloads it has under way.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type StartedDownload, startDownload as startDownloadOf } from '../helpers/downloads.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';

const MiB = 1024 * 1024;
/** Larger than loopback's socket buffers hold, so a download the client does not read stays under way. */
const BIG = 40 * MiB;
/** Over the 2 GiB a Buffer can hold. */
const HUGE = 3 * 1024 * MiB;

let model: ModelServer;
let td: TestDaemon;
let taskId: string;
let ws: string;

beforeAll(async () => {
  model = await startModelServer();
  td = await startTestDaemon({
    config: {
      shell: { sandbox: 'off' },
      anthropic: { apiKey: 'sk-test-key', baseUrl: model.url, model: 'claude-sonnet-4-6' },
    },
  });
  const phone = await td.connect();
  model.push(
    reply(
      toolUse('fs_write', { path: 'big.bin', content: 'x' }),
      toolUse('fs_write', { path: 'huge.bin', content: 'y' }),
      toolUse('fs_write', { path: 'shrinks.bin', content: 'z' }),
    ),
    reply(text('Wrote them.')),
  );
  const created = await phone.send<{ task: { id: string } }>({ type: 'thread.create', text: 'Make two files' });
  taskId = created.task.id;
  await phone.event('task.updated', (e) => e.task.id === taskId && e.task.state === 'done', 20_000);
  phone.close();
  ws = fs.realpathSync(path.join(td.home, 'workspace'));
  // Sparse: they take no disk space.
  fs.truncateSync(path.join(ws, 'big.bin'), BIG);
  fs.truncateSync(path.join(ws, 'huge.bin'), HUGE);
  fs.truncateSync(path.join(ws, 'shrinks.bin'), BIG);
}, 30_000);
afterAll(async () => {
  await td?.stop();
  await model?.close();
});

type Started = StartedDownload;

/** Starts a download and resolves at its status line, leaving the body unread. */
const startDownload = (token: string, name: string): Promise<Started> =>
  startDownloadOf(td.url, token, taskId, path.join(ws, name));

async function bodyOf(s: Started): Promise<{ error?: string; message?: string }> {
  const chunks: Buffer[] = [];
  for await (const c of s.res) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString());
}

describe('downloads', () => {
  it('are bounded per device and in all, and give their slot back when done', async () => {
    const a = (await td.pairDevice('A')).token;
    const b = (await td.pairDevice('B')).token;
    const c = (await td.pairDevice('C')).token;
    const d = (await td.pairDevice('D')).token;
    const open: Started[] = [];
    try {
      for (const token of [a, a, a]) open.push(await startDownload(token, 'big.bin'));
      expect(open.map((s) => s.status)).toEqual([200, 200, 200]);
      expect(open[0].res.headers['content-length']).toBe(String(BIG));
      const third = await startDownload(a, 'big.bin');
      expect(third.status).toBe(429);
      expect(await bodyOf(third)).toMatchObject({ error: 'busy', message: expect.stringMatching(/Wait/) });

      for (const token of [b, b, b, c, c]) open.push(await startDownload(token, 'big.bin'));
      expect(open.map((s) => s.status)).toEqual([200, 200, 200, 200, 200, 200, 200, 200]);
      const overAll = await startDownload(d, 'big.bin');
      expect(overAll.status).toBe(429);
      await bodyOf(overAll);

      // A phone that gives up frees its slot.
      open.shift()!.req.destroy();
      let next: Started;
      for (;;) {
        next = await startDownload(d, 'big.bin');
        if (next.status === 200) break;
        await bodyOf(next);
      }
      open.push(next);
    } finally {
      for (const s of open) s.req.destroy();
    }
  });

  it('HEAD is not served: it neither opens the file nor gets around the bound', async () => {
    const a = (await td.pairDevice('Header')).token;
    const query = `task=${encodeURIComponent(taskId)}&path=${encodeURIComponent(path.join(ws, 'big.bin'))}`;
    const fds = () => fs.readdirSync('/proc/self/fd').length;
    const before = fds();
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${td.url}/api/file?${query}`, {
        method: 'HEAD',
        headers: { authorization: `Bearer ${a}` },
      });
      expect(res.status).not.toBe(200);
    }
    // The daemon runs in this process: 40 files left open behind HEADs would show here.
    expect(fds() - before).toBeLessThan(10);
    const open: Started[] = [];
    try {
      for (let i = 0; i < 3; i++) open.push(await startDownload(a, 'big.bin'));
      expect(open.map((s) => s.status)).toEqual([200, 200, 200]);
    } finally {
      for (const s of open) s.req.destroy();
    }
  });

  it('streams a file larger than memory could hold, announcing its length', async () => {
    const { token } = await td.pairDevice();
    const s = await startDownload(token, 'huge.bin');
    try {
      expect(s.status).toBe(200);
      expect(s.res.headers['content-length']).toBe(String(HUGE));
      // The first bytes arrive although the whole file would not fit in a Buffer.
      const first = await new Promise<Buffer>((resolve) => s.res.once('data', resolve));
      expect(first.length).toBeGreaterThan(0);
    } finally {
      s.req.destroy();
    }
  });

  it('cuts the connection rather than leave the phone waiting when the file shrinks while sent', async () => {
    const { token } = await td.pairDevice();
    const s = await startDownload(token, 'shrinks.bin');
    expect(s.status).toBe(200);
    fs.truncateSync(path.join(ws, 'shrinks.bin'), MiB);
    let received = 0;
    const complete = await new Promise<boolean>((resolve) => {
      s.res.on('data', (c: Buffer) => {
        received += c.length;
      });
      s.res.on('error', () => resolve(false));
      s.res.on('close', () => resolve(s.res.complete));
    });
    expect(complete).toBe(false);
    expect(received).toBeLessThan(BIG);
  });
});

describe('API errors', () => {
  it('logs a failing route without secrets and answers internal, its detail kept off the wire', async () => {
    const { token } = await td.pairDevice();
    const uploads = td.daemon.ctx.uploads;
    const save = uploads.save;
    uploads.save = async () => {
      throw new Error("EACCES: permission denied, open '/home/someone/private/upl_1'");
    };
    try {
      const res = await fetch(`${td.url}/api/upload?probe=1`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
        body: 'x',
      });
      expect(res.status).toBe(500);
      const body = await res.text();
      expect(JSON.parse(body)).toEqual({ error: 'internal', message: expect.stringContaining('errand logs') });
      expect(body).not.toContain('/home/someone');
    } finally {
      uploads.save = save;
    }
    const logFile = path.join(td.daemon.ctx.paths.logs, 'daemon.log');
    const line = fs
      .readFileSync(logFile, 'utf8')
      .split('\n')
      .find((l) => l.includes('request failed'));
    expect(line).toBeDefined();
    expect(line).toContain('/api/upload');
    expect(line).toContain('EACCES');
    expect(line).not.toContain(token);
    expect(line).not.toContain('probe');
  });

  it('answers bodies it cannot take in the documented shape', async () => {
    const post = async (url: string, body: string, type = 'application/json') => {
      const res = await fetch(`${td.url}${url}`, { method: 'POST', headers: { 'content-type': type }, body });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const big = await post('/api/pair/peek', JSON.stringify({ code: 'x'.repeat(70_000) }));
    expect(big).toEqual({ status: 413, body: { error: 'too_large', message: expect.any(String) } });
    for (const url of ['/api/pair/peek', '/api/pair/claim', '/api/push/receipt']) {
      const bad = await post(url, '{"code": ');
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual({ error: 'bad_request', message: expect.any(String) });
    }
    const receipt = await post('/api/push/receipt', JSON.stringify({ pushId: 'p'.repeat(2000), state: 'shown' }));
    expect(receipt).toEqual({ status: 413, body: { error: 'too_large', message: expect.any(String) } });

    const { token } = await td.pairDevice();
    const res = await fetch(`${td.url}/api/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(26 * MiB),
    }).catch(() => undefined);
    // The daemon may close before the whole body is sent; when the answer arrives it is the documented one.
    if (res) {
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({ error: 'too_large', message: expect.stringContaining('25 MiB') });
    }
  });
});

describe('revoking a device', () => {
  /** Starts an upload of `size` bytes and resolves once the daemon has taken its headers (100 Continue). */
  function startUpload(token: string, size: number) {
    const req = http.request(`${td.url}/api/upload`, {
      method: 'POST',
      agent: false,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/octet-stream',
        'content-length': String(size),
        expect: '100-continue',
      },
    });
    const outcome = new Promise<number | 'cut off'>((resolve) => {
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve('cut off'));
    });
    const accepted = new Promise<void>((resolve) => req.on('continue', () => resolve()));
    req.flushHeaders();
    return { req, outcome, accepted };
  }
  const storedUploads = () =>
    fs.existsSync(td.daemon.ctx.paths.uploads) ? fs.readdirSync(td.daemon.ctx.paths.uploads) : [];

  it('cuts off its upload under way: nothing is stored for it', async () => {
    const phone = await td.connect();
    const stolen = await td.pairDevice('Stolen');
    const before = storedUploads();
    const up = startUpload(stolen.token, 200_000);
    await up.accepted;
    up.req.write(Buffer.alloc(100_000));
    await phone.send({ type: 'device.revoke', deviceId: stolen.deviceId });
    up.req.end(Buffer.alloc(100_000));
    expect(await up.outcome).toBe('cut off');
    expect(storedUploads()).toEqual(before);
    phone.close();
  });

  it('refuses to store an upload whose device was revoked while it arrived, even on a connection left open', async () => {
    const phone = await td.connect();
    const stolen = await td.pairDevice('Stolen');
    const before = storedUploads();
    const requests = td.daemon.gateway.httpRequests;
    const cut = requests.cut;
    requests.cut = () => undefined;
    try {
      const up = startUpload(stolen.token, 200_000);
      await up.accepted;
      up.req.write(Buffer.alloc(100_000));
      await phone.send({ type: 'device.revoke', deviceId: stolen.deviceId });
      up.req.end(Buffer.alloc(100_000));
      expect(await up.outcome).toBe(401);
    } finally {
      requests.cut = cut;
    }
    expect(storedUploads()).toEqual(before);
    phone.close();
  });

  it('cuts off its download under way', async () => {
    const phone = await td.connect();
    const stolen = await td.pairDevice('Stolen');
    const dl = await startDownload(stolen.token, 'big.bin');
    expect(dl.status).toBe(200);
    await phone.send({ type: 'device.revoke', deviceId: stolen.deviceId });
    let received = 0;
    const ended = await new Promise<boolean>((resolve) => {
      dl.res.on('data', (c: Buffer) => {
        received += c.length;
      });
      dl.res.on('end', () => resolve(true));
      dl.res.on('error', () => resolve(false));
      dl.res.on('close', () => resolve(dl.res.complete));
    });
    expect(ended).toBe(false);
    expect(received).toBeLessThan(BIG);
    phone.close();
  });
});
