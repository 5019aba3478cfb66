// A reply a phone asked for is not counted against what it may leave unread: a long thread's history
// (20 MB here) opened over a slow link arrives whole while other devices' work sends events, where
// the phone used to be cut by the first event and, reconnecting, cut again. What a peer that stops
// reading may pile up stays bounded: events past 8 MB besides its reply, or a second large reply on
// top of the first, cut it. A real daemon, a real thread in its store, real sockets on loopback.
import type { Socket } from 'node:net';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ThreadItem } from '../../../shared/src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { WsTestClient } from '../helpers/ws-client.js';

let td: TestDaemon;
const stops: Array<() => void> = [];
beforeEach(async () => {
  td = await startTestDaemon();
});
afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  await td.stop();
});

const ITEMS = 200;
const ITEM_TEXT = 100_000;

/** A finished thread whose `thread.get` reply is about ITEMS × ITEM_TEXT bytes (20 MB). */
async function longThread(): Promise<string> {
  const t0 = Date.now() - ITEMS * 1000;
  const doc = await td.daemon.ctx.store.threads.create('A long history', (d) => {
    for (let i = 0; i < ITEMS; i++) {
      const item: ThreadItem = {
        kind: 'assistant',
        id: `a${i}`,
        taskId: `k${i}`,
        text: `Part ${i}: ${'x'.repeat(ITEM_TEXT)}`,
        createdAt: t0 + i * 1000,
      };
      d.items.push(item);
    }
  });
  return doc.meta.id;
}

/** A device of its own, connected; `online` says whether the host still holds a socket of it. */
async function device(name: string): Promise<{ client: WsTestClient; online: () => boolean }> {
  const { token, deviceId } = await td.pairDevice(name);
  const client = await WsTestClient.open(td.url, token);
  stops.push(() => client.socket.terminate());
  return { client, online: () => td.daemon.gateway.online(deviceId) };
}

const rawOf = (c: WsTestClient) => (c.socket as unknown as { _socket: Socket })._socket;

/** Reads about `bytesPerSecond`, like a phone on a mobile link: a tenth of a second's worth, then waits. */
function readSlowly(c: WsTestClient, bytesPerSecond: number): void {
  const raw = rawOf(c);
  let allowed = 0;
  let got = 0;
  raw.on('data', (d: Buffer) => {
    got += d.length;
    if (got >= allowed) raw.pause();
  });
  raw.pause();
  const tick = setInterval(() => {
    allowed += bytesPerSecond / 10;
    if (got < allowed) raw.resume();
  }, 100);
  stops.push(() => clearInterval(tick));
}

/** Renames a thread every `ms` from another device (each rename is an event every device gets). */
function renameEvery(by: WsTestClient, threadId: string, ms: number): () => number {
  let n = 0;
  const timer = setInterval(() => {
    n++;
    by.send({ type: 'thread.rename', threadId, title: `Renamed ${n}` }).catch(() => undefined);
  }, ms);
  stops.push(() => clearInterval(timer));
  return () => n;
}

it('a phone reading a 20 MB thread over a slow link gets it whole while events come, and stays connected', async () => {
  const threadId = await longThread();
  const desk = await device('Desk');
  const other = await desk.client.send<{ thread: { id: string } }>({ type: 'thread.create', text: 'other' });
  const phone = await device('Phone');
  readSlowly(phone.client, 3 * 1024 * 1024);
  const renames = renameEvery(desk.client, other.thread.id, 150);

  const startedAt = Date.now();
  const cut = new Promise<never>((_, reject) =>
    phone.client.socket.once('close', (code) =>
      reject(new Error(`the phone was cut (close ${code}) before its reply came`)),
    ),
  );
  cut.catch(() => undefined);
  const history = await Promise.race([
    phone.client.send<{ items: ThreadItem[] }>({ type: 'thread.get', threadId }, undefined, 60_000),
    cut,
  ]);
  const took = Date.now() - startedAt;
  expect(history.items).toHaveLength(ITEMS);
  expect(history.items.at(-1)).toMatchObject({ id: `a${ITEMS - 1}` });
  // It took seconds, with events sent all along: the case that used to be cut.
  expect(took).toBeGreaterThan(3000);
  expect(renames()).toBeGreaterThan(10);

  // The events sent during the reply follow it, and later ones come live: nothing was cut.
  const before = renames();
  await phone.client.event('thread.updated', (e) => e.thread.title === `Renamed ${before + 2}`, 20_000);
  expect(phone.client.closed).toBeUndefined();
  expect(phone.online()).toBe(true);
}, 90_000);

it('a phone that asked for the long thread and stopped reading is cut once 8 MB of events pile up behind it', async () => {
  const threadId = await longThread();
  const watcher = await device('Watcher');
  const stalled = await device('Stalled');
  rawOf(stalled.client).pause();
  stalled.client.sendRaw(JSON.stringify({ type: 'thread.get', id: 'asked-once', threadId }));
  // Notices of 100 KB, ten at a time, each ten once the watcher has them (the stalled peer's share
  // is queued or cut in the same turn): up to 12 MB, queued behind its unread reply.
  const notices = () => watcher.client.events().filter((f) => f.event.kind === 'notice').length;
  let sentWhenCut = 0;
  for (let i = 0; i < 120 && !sentWhenCut; i += 10) {
    const seen = notices();
    await Promise.all(
      Array.from({ length: 10 }, (_, j) =>
        td.daemon.ctx.emit({ kind: 'notice', level: 'info', text: `n${i + j} ${'n'.repeat(100_000)}`, at: Date.now() }),
      ),
    );
    await expect.poll(notices).toBe(seen + 10);
    if (!stalled.online()) sentWhenCut = i + 10;
  }
  // Its 20 MB reply did not count: it was cut once the events behind it passed 8 MB, not at the first.
  expect(sentWhenCut).toBeGreaterThanOrEqual(80);
  expect(sentWhenCut).toBeLessThanOrEqual(100);
  expect(watcher.client.closed).toBeUndefined();
  expect(watcher.online()).toBe(true);
}, 90_000);

it('a peer that asks for the long thread again and again without reading is cut: its replies do not pile up', async () => {
  const threadId = await longThread();
  const stalled = await device('Asker');
  rawOf(stalled.client).pause();
  for (let i = 0; i < 6; i++)
    stalled.client.sendRaw(JSON.stringify({ type: 'thread.get', id: `asked-again-${i}`, threadId }));
  await expect.poll(() => stalled.online(), { timeout: 20_000, interval: 50 }).toBe(false);
}, 60_000);
