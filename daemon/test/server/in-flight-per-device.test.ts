// Commands under way are bounded per device over all its sockets, not only per socket: a device that
// holds its 64 on one socket is refused on another (rate_limited, saying what to do), while another
// device is served. When a socket closes, its heavy reads still waiting are dropped, so its device
// has room again at once and the host does not go on reading for nobody. Every socket is let in.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import type { WsTestClient } from '../helpers/ws-client.js';

let td: TestDaemon;
let model: ModelServer;
beforeEach(async () => {
  model = await startModelServer(() => reply(text('done')));
  td = await startTestDaemon({
    config: { anthropic: { apiKey: 'sk-test-key-inflight-s27', baseUrl: model.url, model: 'claude-sonnet-4-6' } },
  });
});
afterEach(async () => {
  await td.stop();
  await model.close();
});

const BOUND = 64;
const FILE_MB = 12;

/** A task to read files through, a file big enough that 64 reads of it take seconds, and a small one. */
async function files(watcher: WsTestClient) {
  const made = await watcher.send<{ task: { id: string } }>({ type: 'thread.create', text: 'hello' });
  await watcher.event('task.updated', (e) => e.task.id === made.task.id && e.task.state === 'done', 20_000);
  const status = await watcher.send<{ roots: { path: string }[] }>({ type: 'status.get' });
  const big = path.join(status.roots[0].path, 'big-inflight.txt');
  const line = `${'lorem ipsum dolor sit amet, consectetur adipiscing elit '.repeat(2)}\n`;
  fs.writeFileSync(big, line.repeat(Math.ceil((FILE_MB * 1024 * 1024) / line.length)));
  const small = path.join(status.roots[0].path, 'small-inflight.txt');
  fs.writeFileSync(small, 'small\n');
  return { taskId: made.task.id, big, small };
}

const read = (c: WsTestClient, id: string, taskId: string, file: string) =>
  c.sendRaw(JSON.stringify({ id, type: 'task.file', taskId, path: file }));
const answer = (c: WsTestClient, id: string) =>
  c.waitFor((f) => (f.type === 'reply' || f.type === 'error') && f.id === id, 60_000);

it('a device holding 64 commands on one socket is refused on its other socket; another device is served; a closed socket’s waiting reads are dropped', async () => {
  const watcher = await td.connect();
  const { taskId, big, small } = await files(watcher);
  const flooder = await td.pairDevice('Flooder');
  const a = await td.connect({ token: flooder.token });
  const b = await td.connect({ token: flooder.token });

  for (let i = 0; i < BOUND; i++) read(a, `held-${String(i).padStart(3, '0')}`, taskId, big);
  // Past its own bound on that socket: proof that all 64 are under way.
  a.sendRaw(JSON.stringify({ id: 'a-over-0001', type: 'ping' }));
  expect(await answer(a, 'a-over-0001')).toMatchObject({
    code: 'rate_limited',
    message: `Too many commands at once (${BOUND} on this connection); wait for replies, then send this again.`,
  });
  // Another socket of the same device gets no more room.
  read(b, 'b-over-0001', taskId, small);
  expect(await answer(b, 'b-over-0001')).toMatchObject({
    type: 'error',
    code: 'rate_limited',
    message: `Too many commands at once (${BOUND} from this device, over all its connections); wait for replies, then send this again.`,
  });
  // Another device is served meanwhile (its read takes the next turn).
  read(watcher, 'watcher-0001', taskId, small);
  expect(await answer(watcher, 'watcher-0001')).toMatchObject({ type: 'reply', ok: true });

  // The flooder's sockets go. Its reads still waiting are dropped: at most the two running go on.
  b.close();
  a.socket.terminate();
  await expect.poll(() => td.daemon.gateway.online(flooder.deviceId), { interval: 20 }).toBe(false);
  // Reconnecting, it has room for nearly its whole bound again at once (not after ~60 reads of 12 MB).
  const c = await td.connect({ token: flooder.token });
  const ids = Array.from({ length: BOUND - 2 }, (_, i) => `again-${String(i).padStart(3, '0')}`);
  for (const id of ids) read(c, id, taskId, small);
  const answers = await Promise.all(ids.map((id) => answer(c, id)));
  expect(answers.filter((f) => f.type === 'error')).toEqual([]);
}, 120_000);
