// Bodies are parsed before any route runs, so before any token or rate limit is checked: a 64 KiB
// body of nested brackets on the pairing routes (open to anyone) cost eleven times an ordinary
// request's CPU. No JSON route takes more than 2 KiB now: a larger body is refused unread with 413
// too_large, on every route and method, while the largest real claim still pairs.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let td: TestDaemon;
beforeEach(async () => {
  td = await startTestDaemon();
});
afterEach(async () => {
  await td.stop();
});

async function send(method: string, route: string, body: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${td.url}${route}`, { method, headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, body: await res.json() };
}

const nested = (bytes: number) => `${'['.repeat(bytes / 2)}${']'.repeat(bytes / 2)}`;
const tooLarge = { status: 413, body: { error: 'too_large', message: 'The request body is too large.' } };

it('a pairing request over 2 KiB is refused unread, nested or not', async () => {
  for (const route of ['/api/pair/claim', '/api/pair/peek']) {
    expect(await send('POST', route, nested(4 * 1024))).toEqual(tooLarge);
    expect(await send('POST', route, JSON.stringify({ code: 'c'.repeat(3000), name: 'Phone' }))).toEqual(tooLarge);
  }
});

it('a JSON body over 2 KiB is refused on any other route or method too', async () => {
  expect(await send('DELETE', '/nothing', nested(60 * 1024))).toEqual(tooLarge);
  expect(await send('POST', '/api/file', nested(60 * 1024))).toEqual(tooLarge);
  expect(await send('PUT', '/healthz', nested(60 * 1024))).toEqual(tooLarge);
});

it('the largest claim a phone sends (a name of 80 characters, every one an escape) still pairs', async () => {
  const { code } = td.mintPairCode();
  td.approveNextClaim();
  const name = '\u{1F600}'.repeat(40); // 80 UTF-16 units, the most a name may hold
  const body = JSON.stringify({ code, name }).replace(/[\uD800-\uDFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
  expect(body.length).toBeGreaterThan(500);
  const answer = await send('POST', '/api/pair/claim', body);
  expect(answer).toMatchObject({ status: 200, body: { token: expect.any(String) } });
});
