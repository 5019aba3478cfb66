// A push service that answers slowly must not hold a push for ever: the socket's idle timeout
// restarts with every byte, so a service trickling its answer one byte at a time never tripped it,
// and eight such requests took every connection to that host, so pushes to other devices waited
// behind them for good. Each request now has a deadline for the whole exchange, and a body past the
// small cap is not read on. Real https (a local server with a certificate for fcm.googleapis.com).
import type { ServerResponse } from 'node:http';
import https from 'node:https';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type HttpsTransport, httpsTransport, type PushResponse } from '../../src/push/transport.js';
import { certificate } from './push-service.js';

let server: https.Server;
let port: number;
let cert: string;
const transports: HttpsTransport[] = [];

/** Headers at once, then one byte of body every 200 ms, never ending. */
function trickle(res: ServerResponse): void {
  res.writeHead(201, { 'content-type': 'text/plain' });
  const timer = setInterval(() => res.write('.'), 200);
  res.on('close', () => clearInterval(timer));
}

/** Headers at once, then body as fast as the client reads it, never ending. */
function endless(res: ServerResponse): void {
  res.writeHead(201, { 'content-type': 'text/plain' });
  const chunk = 'x'.repeat(1024);
  const pump = () => {
    while (!res.destroyed && res.write(chunk));
  };
  res.on('drain', pump);
  pump();
}

beforeAll(async () => {
  const made = certificate();
  cert = made.cert;
  server = https.createServer({ key: made.key, cert }, (req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.startsWith('/trickle/')) trickle(res);
      else if (req.url?.startsWith('/endless/')) endless(res);
      else res.writeHead(201).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  for (const t of transports) t.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function transport(timeoutMs: number): HttpsTransport {
  const t = httpsTransport({ connectTo: { host: '127.0.0.1', port }, ca: cert, timeoutMs });
  transports.push(t);
  return t;
}
const push = (t: HttpsTransport, p: string) =>
  t({ endpoint: `https://fcm.googleapis.com${p}`, method: 'POST', headers: { TTL: 60 }, body: Buffer.from('x') });

/** How a request ended, and after how long; "none" if it had not ended within `boundMs`. */
async function ending(p: Promise<PushResponse>, boundMs: number) {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<{ ok: 'none' }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: 'none' }), boundMs);
  });
  const r = await Promise.race([
    p.then(
      (res) => ({ ok: 'answered' as const, res }),
      (err: Error) => ({ ok: 'failed' as const, err }),
    ),
    bound,
  ]);
  clearTimeout(timer);
  return { ...r, ms: performance.now() - t0 };
}

it('each request to a service that trickles its answer ends at the deadline, and a push behind them goes out', async () => {
  const t = transport(1000);
  // More slow requests than the connections one host gets (8), then one the service answers at once.
  const slow = Array.from({ length: 8 }, (_, i) => ending(push(t, `/trickle/${i}`), 8000));
  const other = ending(push(t, '/fcm/send/other-device'), 8000);
  for (const s of await Promise.all(slow)) {
    expect(s.ok).toBe('failed');
    if (s.ok === 'failed') expect(s.err.message).toMatch(/no complete answer from the push service within 1000 ms/);
    expect(s.ms).toBeLessThan(3000);
  }
  const o = await other;
  expect(o.ok).toBe('answered');
  if (o.ok === 'answered') expect(o.res.status).toBe(201);
  // It waited for a connection at most as long as one deadline ahead of it, not for ever.
  expect(o.ms).toBeLessThan(3000);
}, 20_000);

it('a body without end is read only up to the cap: the answer comes back at once', async () => {
  const t = transport(5000);
  const r = await ending(push(t, '/endless/1'), 8000);
  expect(r.ok).toBe('answered');
  if (r.ok === 'answered') {
    expect(r.res.status).toBe(201);
    expect(r.res.body).toHaveLength(4096);
  }
  expect(r.ms).toBeLessThan(4000);
  // The connection cut short is not reused: the next push still gets its answer.
  const next = await ending(push(t, '/fcm/send/after'), 8000);
  expect(next.ok).toBe('answered');
}, 20_000);
