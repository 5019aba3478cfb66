// Refused requests are logged so the owner can see someone knocking: foreign Host, foreign Origin,
// failed authentication. At most 20 lines a minute (then one line counting the rest), and never a
// token, a pairing code or a query string.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import { RefusalLog } from '../../src/server/refusals.js';
import type { Logger } from '../../src/util/log.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let td: TestDaemon;
beforeEach(async () => {
  td = await startTestDaemon();
});
afterEach(async () => {
  await td.stop();
});

const refusalLines = (): Array<Record<string, unknown>> => {
  const file = path.join(td.daemon.ctx.paths.logs, 'daemon.log');
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === 'refused');
};

it('logs a foreign Host, a foreign Origin and a failed WebSocket auth, without the token', async () => {
  const secretToken = `not-a-real-token-${'s'.repeat(40)}`;
  const port = new URL(td.url).port;
  // fetch will not send a foreign Host header; a raw request does (as a DNS-rebinding page would).
  const status = await new Promise<number | undefined>((resolve, reject) => {
    http
      .get(
        {
          host: '127.0.0.1',
          port,
          path: '/healthz?token=leaky-query-secret',
          headers: { host: `evil.example:${port}` },
        },
        (r) => {
          r.resume();
          resolve(r.statusCode);
        },
      )
      .on('error', reject);
  });
  expect(status).toBe(403);
  const res2 = await fetch(`${td.url}/healthz`, { headers: { origin: 'https://evil.example' } });
  expect(res2.status).toBe(403);
  const ws = new WebSocket(`${td.url.replace(/^http/, 'ws')}/ws`);
  await new Promise<void>((resolve) => {
    ws.once('open', () => ws.send(JSON.stringify({ type: 'auth', token: secretToken })));
    ws.once('close', () => resolve());
    ws.once('error', () => resolve());
  });
  await expect.poll(() => refusalLines().length, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
  const lines = refusalLines();
  expect(lines.map((l) => l.reason)).toEqual(expect.arrayContaining(['bad_host', 'bad_origin', 'auth_failed']));
  expect(lines.find((l) => l.reason === 'bad_host')).toMatchObject({ host: `evil.example:${port}`, path: '/healthz' });
  const all = fs.readFileSync(path.join(td.daemon.ctx.paths.logs, 'daemon.log'), 'utf8');
  expect(all).not.toContain(secretToken);
  expect(all).not.toContain('leaky-query-secret');
});

it('a flood of refusals logs at most 20 lines a minute, then one line counting the rest', () => {
  const written: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
  const log = {
    warn: (msg: string, fields?: Record<string, unknown>) => written.push({ msg, fields }),
  } as unknown as Logger;
  let now = 1_000_000;
  const refusals = new RefusalLog(log, () => now);
  for (let i = 0; i < 500; i++) refusals.refused('bad_host', { address: '10.0.0.9', host: 'x' });
  expect(written).toHaveLength(20);
  now += 60_000;
  refusals.refused('bad_origin', { address: '10.0.0.9' });
  expect(written.at(-2)).toEqual({ msg: 'more refusals were not logged', fields: { count: 480, windowSeconds: 60 } });
  expect(written.at(-1)).toMatchObject({ msg: 'refused', fields: { reason: 'bad_origin' } });
});
