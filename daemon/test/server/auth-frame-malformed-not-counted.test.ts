// An auth frame that carries a valid device token but is malformed otherwise (a bad lastSeq, a field
// a newer client added) is told what is wrong and is not a failed login: behind Tailscale Serve
// everyone shares 127.0.0.1, and a dozen such reconnects spent the address's failure budget, so
// others' wrong codes and tokens were refused for a minute. Only a wrong token counts.
import { afterEach, beforeEach, expect, it } from 'vitest';
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

/** Sends one first frame on a new socket: what the daemon sent, and how it closed the socket. */
async function firstFrame(frame: unknown): Promise<{ frames: unknown[]; code: number; reason: string }> {
  const ws = WsTestClient.raw(td.url);
  sockets.push(ws);
  const frames: unknown[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d))));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  return { frames, ...(await closed) };
}

it('a valid token in a malformed frame is told what is wrong, and spends none of the failure budget', async () => {
  const { token } = await td.pairDevice();
  const malformed: [unknown, RegExp][] = [
    [{ type: 'auth', token, lastSeq: -1 }, /lastSeq/],
    [{ type: 'auth', token, lastSeq: 1.5 }, /lastSeq/],
    [{ type: 'auth', token, lastSeq: 2 ** 53 }, /lastSeq/],
    [{ type: 'auth', token, client: 'pwa/2' }, /only type, token, lastSeq and protocol/],
    [{ type: 'auth', token, protocol: 'one' }, /protocol/],
  ];
  // Three rounds: 15 attempts, past the 10 failures an address may have in a minute.
  for (let round = 0; round < 3; round++)
    for (const [frame, names] of malformed) {
      const answer = await firstFrame(frame);
      expect(answer.code).toBe(1008);
      expect(answer.reason).toMatch(names);
      expect(answer.frames).toEqual([expect.objectContaining({ type: 'error', code: 'bad_request' })]);
    }
  // The address has failed nothing: a wrong token is told it is unknown, not to wait a minute …
  const wrong = await firstFrame({ type: 'auth', token: 'A'.repeat(43) });
  expect(wrong.code).toBe(4003);
  // … and the owner's well-formed frame gets in.
  const owner = await WsTestClient.open(td.url, token, 0);
  expect(owner.frames[0]?.type).toBe('auth.ok');
  owner.close();
});

it('a wrong token still counts, malformed frame or not', async () => {
  for (let i = 0; i < 10; i++) {
    const answer = await firstFrame({ type: 'auth', token: `wrong-${i}-${'x'.repeat(30)}`, lastSeq: -1 });
    expect(answer.code).toBe(1008);
    expect(answer.reason).toMatch(/lastSeq/);
  }
  const next = await firstFrame({ type: 'auth', token: 'A'.repeat(43) });
  expect(next.reason).toMatch(/too many failed attempts/);
});
