// Refusals say what to do next: a page from another site is told where Errand is opened, a body
// that is not JSON is told to send JSON (not fastify's bare "Unsupported Media Type"), and a phone
// whose token no device has any more is told to pair again, as the WebSocket tells it, not to
// "send the device token" it did send.
import crypto from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let td: TestDaemon;
beforeAll(async () => {
  td = await startTestDaemon();
}, 30_000);
afterAll(() => td?.stop());

function call(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; json: { error: string; message: string } }> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, td.url), { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

it('another site is told to open Errand at its own address', async () => {
  const r = await call('GET', '/api/file?taskId=x&path=y', { origin: 'https://evil.example' });
  expect(r.status).toBe(403);
  expect(r.json).toEqual({
    error: 'bad_origin',
    message: 'Requests from other sites are refused. Open Errand at its own address (the one `errand pair` prints).',
  });
});

it('a pairing claim sent as a form is told to send JSON', async () => {
  const r = await call('POST', '/api/pair/claim', { 'content-type': 'application/x-www-form-urlencoded' }, 'code=x');
  expect(r.status).toBe(415);
  expect(r.json.message).toBe('Send the body as JSON, with the header Content-Type: application/json.');
});

it('a token no device has is told to pair again; no token is told to send one', async () => {
  const token = crypto.randomBytes(32).toString('base64url');
  const unknown = await call('GET', '/api/file?taskId=x&path=y', { authorization: `Bearer ${token}` });
  expect(unknown.status).toBe(401);
  expect(unknown.json.message).toBe(
    'This device is not paired with this computer (it may have been removed there). Pair it again with `errand pair`.',
  );
  const none = await call('GET', '/api/file?taskId=x&path=y', {});
  expect(none.status).toBe(401);
  expect(none.json.message).toBe('Send the device token in an Authorization: Bearer header.');
});
