// A client resuming from a number this host never gave out (a home restored from a backup, another
// host at the same address) gets a snapshot and then every live event, not `synced` at its own
// number with the live events up to it withheld.
import { afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ServerFrame } from '../../../shared/src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let td: TestDaemon | undefined;
afterEach(async () => {
  await td?.stop();
  td = undefined;
});

it('a resume cursor past the host newest number gets a snapshot, then live events', async () => {
  td = await startTestDaemon();
  const { token } = await td.pairDevice();
  const hostSeq = td.daemon.ctx.store.events.lastSeq;
  const ws = new WebSocket(`${td.url.replace('http', 'ws')}/ws`);
  await new Promise((r) => ws.once('open', r));
  const frames: ServerFrame[] = [];
  ws.on('message', (data) => frames.push(ServerFrame.parse(JSON.parse(data.toString()))));
  ws.send(JSON.stringify({ type: 'auth', token, lastSeq: hostSeq + 1000 }));
  const deadline = Date.now() + 10_000;
  while (!frames.some((f) => f.type === 'synced') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const snapshot = frames.find((f) => f.type === 'snapshot');
  expect(snapshot).toMatchObject({ seq: hostSeq });
  expect(frames.find((f) => f.type === 'synced')).toMatchObject({ seq: hostSeq });

  // A live event after it reaches this client.
  const seq = await td.daemon.ctx.emit({ kind: 'notice', level: 'info', text: 'after the resume', at: 0 });
  while (!frames.some((f) => f.type === 'event' && f.seq === seq) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  expect(frames.filter((f) => f.type === 'event').map((f) => (f as { seq: number }).seq)).toEqual([seq]);
  ws.close();
});
