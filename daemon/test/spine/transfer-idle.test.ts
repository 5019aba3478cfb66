// A download the client stops reading gives its slot back once no byte has moved for the idle time
// (before, it held the slot and an open file until TCP gave up); one read slowly but steadily is not cut.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type StartedDownload, startDownload as startDownloadOf } from '../helpers/downloads.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';

const MiB = 1024 * 1024;
/** Larger than loopback's socket buffers hold, so a download nobody reads stalls. */
const BIG = 40 * MiB;
const SMALL = 8 * MiB;
/** The slow reader stops after each step. */
const STEP = MiB;
const IDLE_MS = 1500;

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
    transferIdleMs: IDLE_MS,
  });
  const phone = await td.connect();
  model.push(
    reply(
      toolUse('fs_write', { path: 'big.bin', content: 'x' }),
      toolUse('fs_write', { path: 'small.bin', content: 'y' }),
    ),
    reply(text('Wrote them.')),
  );
  const created = await phone.send<{ task: { id: string } }>({ type: 'thread.create', text: 'Make two files' });
  taskId = created.task.id;
  await phone.event('task.updated', (e) => e.task.id === taskId && e.task.state === 'done', 20_000);
  phone.close();
  ws = fs.realpathSync(path.join(td.home, 'workspace'));
  fs.truncateSync(path.join(ws, 'big.bin'), BIG); // sparse: no disk space taken
  fs.truncateSync(path.join(ws, 'small.bin'), SMALL);
}, 30_000);
afterAll(async () => {
  await td?.stop();
  await model?.close();
});

type Started = StartedDownload;

/** Starts a download and resolves at its status line, leaving the body unread. */
const startDownload = (token: string, name: string): Promise<Started> =>
  startDownloadOf(td.url, token, taskId, path.join(ws, name));

const drain = (s: Started) => new Promise<void>((resolve) => s.res.resume().once('close', resolve));

describe('an idle download', () => {
  it('is dropped, and its slot is free again', async () => {
    const { token } = await td.pairDevice('Stalled');
    const stalled: Started[] = [];
    try {
      for (let i = 0; i < 3; i++) stalled.push(await startDownload(token, 'big.bin'));
      expect(stalled.map((s) => s.status)).toEqual([200, 200, 200]);
      const busy = await startDownload(token, 'big.bin');
      expect(busy.status).toBe(429);
      await drain(busy);
      // Nobody reads the three: once nothing has moved for the idle time the daemon drops them
      // (the client may not even notice: its unread bytes sit before the close) and frees their slots.
      let next: Started;
      for (;;) {
        next = await startDownload(token, 'small.bin');
        if (next.status !== 429) break;
        await drain(next);
        await new Promise((r) => setTimeout(r, 100)); // pacing between tries
      }
      expect(next.status).toBe(200);
      await drain(next);
    } finally {
      for (const s of stalled) s.req.destroy();
    }
  }, 20_000);

  it('read slowly but steadily is sent whole, though it takes longer than the idle time', async () => {
    const { token } = await td.pairDevice('Slow reader');
    const s = await startDownload(token, 'small.bin');
    expect(s.status).toBe(200);
    const started = Date.now();
    let received = 0;
    let nextPause = STEP;
    const timers = new Set<NodeJS.Timeout>();
    // A reader that stops for a while after each step: slow, but never idle for the idle time.
    s.res.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received < nextPause) return;
      nextPause += STEP;
      s.res.pause();
      const t = setTimeout(() => (timers.delete(t), s.res.resume()), IDLE_MS / 4);
      timers.add(t);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        s.res.once('end', resolve);
        s.res.once('close', () => (received === SMALL ? resolve() : reject(new Error(`cut after ${received} bytes`))));
      });
    } finally {
      for (const t of timers) clearTimeout(t);
    }
    expect(received).toBe(SMALL);
    expect(Date.now() - started).toBeGreaterThan(IDLE_MS);
  }, 30_000);
});
