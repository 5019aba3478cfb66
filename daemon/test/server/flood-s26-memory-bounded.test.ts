// One paired device sends many task.file commands at once for a large file, on one socket: the
// daemon refuses what is past its per-connection bound (rate_limited, saying what to do), reads the
// rest a few at a time, so its memory stays bounded, and another device's ping is answered meanwhile.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { ServerFrame } from '../../../shared/src/index.js';
import { freePort, killChildren, pairWithCli, spawnDaemon } from '../helpers/cli.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import { WsTestClient } from '../helpers/ws-client.js';

const children: ChildProcess[] = [];
const clients: WsTestClient[] = [];
let server: ModelServer | undefined;
let home: string | undefined;
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killChildren(children);
  await server?.close();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

/** A field of /proc/<pid>/status in MB (VmRSS now, VmHWM the peak so far). */
const memoryMb = (pid: number, field: 'VmRSS' | 'VmHWM') =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

const FLOOD = 80;
const FILE_MB = 12;
/** Generous: a few reads at once take tens of MB; eighty at once took about a gigabyte. */
const GROWTH_BOUND_MB = 300;

it('eighty task.file at once on one socket: the excess is refused, memory stays bounded, another device is answered', async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-flood-s26-'));
  server = await startModelServer([reply(text('done'))]);
  const env = {
    ERRAND_HOME: home,
    HOME: home,
    ANTHROPIC_BASE_URL: server.url,
    ANTHROPIC_API_KEY: 'sk-test-flood-0123456789',
    ERRAND_MODEL: 'claude-sonnet-4-6',
  };
  const daemon = await spawnDaemon(env, await freePort());
  children.push(daemon.child);
  const pid = daemon.child.pid!;
  const watcher = await WsTestClient.open(daemon.url, await pairWithCli(env, daemon.url, 'Watcher', children));
  const flooder = await WsTestClient.open(daemon.url, await pairWithCli(env, daemon.url, 'Flooder', children));
  clients.push(watcher, flooder);

  const made = await flooder.send<{ task: { id: string } }>({ type: 'thread.create', text: 'hello' });
  await flooder.event('task.updated', (e) => e.task.id === made.task.id && e.task.state === 'done', 20_000);
  const status = await flooder.send<{ roots: { path: string }[] }>({ type: 'status.get' });
  const big = path.join(status.roots[0].path, 'big.txt');
  const line = `${'lorem ipsum dolor sit amet, consectetur adipiscing elit '.repeat(2)}\n`;
  fs.writeFileSync(big, line.repeat(Math.ceil((FILE_MB * 1024 * 1024) / line.length)));
  // One read first, so the baseline holds what any single read needs.
  await flooder.send({ type: 'task.file', taskId: made.task.id, path: big }, undefined, 30_000);
  const before = memoryMb(pid, 'VmHWM');

  const ids = Array.from({ length: FLOOD }, (_, i) => `flood-s26-${String(i).padStart(3, '0')}`);
  for (const id of ids) flooder.sendRaw(JSON.stringify({ id, type: 'task.file', taskId: made.task.id, path: big }));
  let answered = 0;
  const answers = Promise.all(
    ids.map((id) =>
      flooder
        .waitFor((f) => (f.type === 'reply' || f.type === 'error') && f.id === id, 60_000)
        .then((f) => (answered++, f)),
    ),
  );
  // The other device is answered all the while (each ping within the client's 10 s).
  let pings = 0;
  while (answered < FLOOD) {
    await watcher.send({ type: 'ping' });
    pings++;
  }
  const frames: ServerFrame[] = await answers;
  const growth = memoryMb(pid, 'VmHWM') - before;

  expect(growth).toBeLessThan(GROWTH_BOUND_MB);
  const refused = frames.filter((f) => f.type === 'error');
  expect(refused.length).toBeGreaterThan(0);
  for (const f of refused)
    expect(f).toMatchObject({
      code: 'rate_limited',
      message: expect.stringMatching(/^Too many commands at once.*wait for replies/),
    });
  expect(frames.filter((f) => f.type === 'reply').length).toBe(FLOOD - refused.length);
  expect(pings).toBeGreaterThan(0);
  expect(daemon.child.exitCode).toBe(null);
  // Once answered, the same socket is served again.
  expect(await flooder.send({ type: 'ping' })).toEqual({ pong: expect.any(Number) });
}, 120_000);
