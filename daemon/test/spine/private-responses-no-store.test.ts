// What the API answers is private (a task's files, the device token at pairing): no cache on the
// phone or between may keep it. Static files keep their own caching (the app shell, hashed assets).
// Refusals written straight to the socket (a WebSocket upgrade) carry the same headers.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';

let model: ModelServer;
let td: TestDaemon;

beforeAll(async () => {
  model = await startModelServer();
  td = await startTestDaemon({
    config: { anthropic: { apiKey: 'sk-test-key', baseUrl: model.url, model: 'claude-sonnet-4-6' } },
  });
}, 30_000);
afterAll(async () => {
  await td?.stop();
  await model?.close();
});

const noStore = (res: Response) => expect(res.headers.get('cache-control'), res.url).toBe('no-store');

it('the pairing answer that carries the device token is never stored', async () => {
  const { code } = td.mintPairCode();
  td.approveNextClaim();
  const res = await fetch(`${td.url}/api/pair/claim`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, name: 'Phone' }),
  });
  expect(res.status).toBe(200);
  expect(typeof ((await res.json()) as { token?: unknown }).token).toBe('string');
  noStore(res);
});

it("a task's file, and every API answer (errors too), are never stored; static files keep their caching", async () => {
  const phone = await td.connect();
  model.push(reply(toolUse('fs_write', { path: 'notes.txt', content: 'private notes' })), reply(text('Done.')));
  const { task } = await phone.send<{ task: { id: string } }>({ type: 'thread.create', text: 'Write notes' });
  await phone.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
  phone.close();
  const file = path.join(fs.realpathSync(path.join(td.home, 'workspace')), 'notes.txt');
  const { token } = await td.pairDevice('Reader');
  const auth = { authorization: `Bearer ${token}` };
  const got = await fetch(`${td.url}/api/file?task=${task.id}&path=${encodeURIComponent(file)}`, { headers: auth });
  expect(got.status).toBe(200);
  expect(await got.text()).toBe('private notes');
  noStore(got);
  noStore(await fetch(`${td.url}/api/file?task=${task.id}&path=%2Fetc%2Fpasswd`, { headers: auth }));
  noStore(await fetch(`${td.url}/api/file?task=${task.id}&path=x`));
  const shell = await fetch(`${td.url}/`);
  expect(shell.headers.get('cache-control')).not.toBe('no-store');
});

it('a WebSocket upgrade refused for its Origin carries the same headers (no-store, nosniff, the CSP)', async () => {
  const net = await import('node:net');
  const socket = net.connect(td.port, '127.0.0.1');
  let answer = '';
  socket.on('data', (d) => {
    answer += d.toString();
  });
  const ended = new Promise((r) => socket.once('close', r));
  socket.write(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${td.port}\r\nOrigin: https://evil.example\r\nUpgrade: websocket\r\n` +
      'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await ended;
  const head = answer.split('\r\n\r\n')[0].toLowerCase();
  expect(head).toMatch(/^http\/1.1 403/);
  expect(head).toContain('cache-control: no-store');
  expect(head).toContain('x-content-type-options: nosniff');
  expect(head).toContain('content-security-policy:');
});
