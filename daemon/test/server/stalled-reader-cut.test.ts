// A client that stops reading its socket is cut, so it cannot make the host hold its replay and
// the live events behind it forever; it resumes later from its last seq. A pong it sends unasked
// proves nothing: only one that answers the heartbeat's ping (its payload) keeps a socket alive.
// A slow phone that does read is never cut. The gateway runs on the real store and a real
// WebSocket server, with its heartbeat and stall timings shortened.
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { homePaths } from '../../src/config/paths.js';
import { CommandRouter } from '../../src/server/command-router.js';
import { Gateway, type GatewayTiming } from '../../src/server/gateway.js';
import { FailureLimiter } from '../../src/server/rate-limit.js';
import { openStore, type Store } from '../../src/store/index.js';
import type { Logger } from '../../src/util/log.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, close() {} };
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Host {
  store: Store;
  gateway: Gateway;
  url: string;
}

async function startHost(timing: Partial<GatewayTiming>): Promise<Host> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-stalled-'));
  cleanups.push(() => fs.rmSync(home, { recursive: true, force: true }));
  const paths = homePaths(home);
  fs.mkdirSync(paths.store, { recursive: true, mode: 0o700 });
  const store = await openStore(paths);
  cleanups.push(() => store.close());
  const router = new CommandRouter();
  router.register('ping', async () => ({ pong: Date.now() }));
  const gateway = new Gateway({
    devices: store.devices,
    events: store.events,
    threads: store.threads,
    commands: store.commands,
    router,
    limiter: new FailureLimiter(),
    log: quiet,
    hostId: store.threads.hostId,
    timing,
  });
  cleanups.push(() => gateway.close());
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (socket, req) => gateway.accept(socket, req.socket.remoteAddress ?? 'unknown'));
  await new Promise((r) => wss.once('listening', r));
  cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
  return { store, gateway, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}` };
}

/** About `mb` megabytes of history in events of `kb` kilobytes. */
async function history(store: Store, mb: number, kb = 100): Promise<void> {
  const text = 'h'.repeat(kb * 1000);
  await Promise.all(
    Array.from({ length: Math.ceil((mb * 1000) / kb) }, () =>
      store.events.append({ kind: 'notice', level: 'info', text, at: Date.now() }),
    ),
  );
}

interface Peer {
  socket: WebSocket;
  /** Whether the host still holds a connection of this peer's device (each peer is a device of its own). */
  online: () => boolean;
  frames: () => number;
  synced: () => boolean;
}

/**
 * A client that authenticates and, when `reading` is false, never reads another byte: its TCP
 * socket is paused before the host answers (the host's frames pile up in the kernel, then in it).
 * It sends a pong every 50 ms unasked, as the audit's probe did.
 */
async function peer(host: Host, opts: { lastSeq?: number; reading: boolean | 'slowly' }): Promise<Peer> {
  const { device, token } = await host.store.devices.add('Phone', undefined);
  const socket = new WebSocket(`${host.url}/ws`);
  cleanups.push(() => socket.terminate());
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  let frames = 0;
  let synced = false;
  socket.on('message', (data) => {
    frames++;
    if (String(data).startsWith('{"type":"synced"')) synced = true;
  });
  const raw = (socket as unknown as { _socket: import('node:net').Socket })._socket;
  if (opts.reading === false) {
    raw.pause();
    const pongs = setInterval(() => socket.readyState === WebSocket.OPEN && socket.pong(Buffer.from('unasked')), 50);
    cleanups.push(() => clearInterval(pongs));
  }
  if (opts.reading === 'slowly') readSlowly(raw, 1.5 * 1024 * 1024);
  socket.send(
    JSON.stringify({ type: 'auth', token, ...(opts.lastSeq !== undefined ? { lastSeq: opts.lastSeq } : {}) }),
  );
  await expect.poll(() => host.gateway.online(device.id)).toBe(true);
  return { socket, online: () => host.gateway.online(device.id), frames: () => frames, synced: () => synced };
}

/** Reads at about `bytesPerSecond`, like a phone on a slow link: pauses its socket once a tenth of a second's worth came. */
function readSlowly(raw: import('node:net').Socket, bytesPerSecond: number): void {
  let got = 0;
  raw.on('data', (d: Buffer) => {
    got += d.length;
    if (got >= bytesPerSecond / 10) raw.pause();
  });
  const tick = setInterval(() => {
    got = 0;
    raw.resume();
  }, 100);
  cleanups.push(() => clearInterval(tick));
}

it('a heartbeat is answered only by the pong that carries its ping: unasked pongs from a socket that stopped reading do not keep it', async () => {
  const host = await startHost({ heartbeatMs: 300 });
  const stalled = await peer(host, { reading: false });
  const reading = await peer(host, { reading: true });
  // Cut at the second beat it could not answer; the client reading answers every ping and stays.
  await expect.poll(() => stalled.online(), { timeout: 3000, interval: 50 }).toBe(false);
  await new Promise((r) => setTimeout(r, 1000));
  expect(reading.online()).toBe(true);
  expect(reading.socket.readyState).toBe(WebSocket.OPEN);
});

it('a resumer that stops reading mid-replay is cut once its socket takes nothing for the stall time', async () => {
  const host = await startHost({ replayStallMs: 1500, heartbeatMs: 60_000 });
  await history(host.store, 12); // more than the kernel's buffers and the replay's high-water mark hold
  const stalled = await peer(host, { lastSeq: 0, reading: false });
  const startedAt = Date.now();
  await expect.poll(() => stalled.online(), { timeout: 10_000, interval: 50 }).toBe(false);
  expect(Date.now() - startedAt).toBeGreaterThan(1000); // not before the stall time ran
});

it('a resumer on a slow link that keeps reading gets its whole replay, however long its writes take', async () => {
  const host = await startHost({ replayStallMs: 2000, heartbeatMs: 60_000 });
  // The replay's first write is 64 events of 200 KB: at 1.5 MB/s its last byte leaves about six
  // seconds after its first, far past the stall time, so bytes moving within the write must count.
  await history(host.store, 13, 200);
  const slow = await peer(host, { lastSeq: 0, reading: 'slowly' });
  const startedAt = Date.now();
  await expect.poll(() => slow.synced() || !slow.online(), { timeout: 40_000, interval: 100 }).toBe(true);
  expect(slow.online()).toBe(true);
  expect(slow.synced()).toBe(true);
  expect(Date.now() - startedAt).toBeGreaterThan(2000);
  expect(slow.frames()).toBeGreaterThanOrEqual(65);
}, 60_000);
