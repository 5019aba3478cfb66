// A socket the host closes for good (one of a device's past its 8, or every socket of a revoked
// device) is cut within a second if its peer never answers the close frame, as a peer that stopped
// reading never does: left to ws it stayed open 30 s, so a reconnect loop piled up over a thousand
// sockets, and a revoked device's connection stayed established. A device's sockets still closing
// are bounded too. The gateway runs on the real store and a real WebSocket server on loopback.
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { homePaths } from '../../src/config/paths.js';
import { CommandRouter } from '../../src/server/command-router.js';
import { Gateway } from '../../src/server/gateway.js';
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
  /** The host's side of every socket, in the order they connected. */
  served: WebSocket[];
}

async function startHost(): Promise<Host> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-evicted-'));
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
  });
  cleanups.push(() => gateway.close());
  const served: WebSocket[] = [];
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (socket, req) => {
    served.push(socket);
    gateway.accept(socket, req.socket.remoteAddress ?? 'unknown');
  });
  await new Promise((r) => wss.once('listening', r));
  cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
  return { store, gateway, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`, served };
}

/**
 * A socket that authenticates, then never reads another byte: the close frame the host sends later
 * is never seen, so never answered. Resolves with the host's side of it once auth.ok arrived.
 */
async function deafPeer(host: Host, token: string): Promise<WebSocket> {
  const socket = new WebSocket(host.url);
  cleanups.push(() => socket.terminate());
  const index = await new Promise<number>((resolve, reject) => {
    socket.once('open', () => {
      resolve(host.served.length - 1);
      socket.send(JSON.stringify({ type: 'auth', token }));
    });
    socket.once('error', reject);
  });
  await new Promise<void>((resolve) =>
    socket.on('message', function first(data) {
      if (!String(data).startsWith('{"type":"auth.ok"')) return;
      socket.off('message', first);
      (socket as unknown as { _socket: import('node:net').Socket })._socket.pause();
      resolve();
    }),
  );
  return host.served[index];
}

/** Resolves when the host's side of a socket is closed (its TCP connection gone); rejects after `ms`. */
function closedWithin(served: WebSocket, ms: number): Promise<void> {
  if (served.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the host kept the socket open more than ${ms} ms`)), ms);
    served.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

it("a device's oldest socket, closed to make room, is cut within a second or so when its peer never answers", async () => {
  const host = await startHost();
  const { device, token } = await host.store.devices.add('Phone', undefined);
  const oldest = await deafPeer(host, token);
  for (let i = 0; i < 8; i++) await deafPeer(host, token);
  expect(oldest.readyState).not.toBe(WebSocket.OPEN); // closed to make room for the ninth
  await closedWithin(oldest, 5000); // ws alone waits 30 s for the answer
  expect(host.gateway.online(device.id)).toBe(true);
});

it('every socket of a revoked device is cut within a second or so, though its peers never answer', async () => {
  const host = await startHost();
  const { device, token } = await host.store.devices.add('Stolen phone', undefined);
  const other = await host.store.devices.add('Phone', undefined);
  const stolen = [await deafPeer(host, token), await deafPeer(host, token)];
  const kept = await deafPeer(host, other.token);
  await host.store.devices.remove(device.id);
  host.gateway.revoke(device.id);
  expect(host.gateway.online(device.id)).toBe(false);
  await Promise.all(stolen.map((s) => closedWithin(s, 5000)));
  expect(kept.readyState).toBe(WebSocket.OPEN);
});

it('a reconnect loop whose sockets never answer holds at most 8 live and 8 closing sockets of its device', async () => {
  const host = await startHost();
  const { token } = await host.store.devices.add('Phone', undefined);
  const mine: WebSocket[] = [];
  let most = 0;
  for (let i = 0; i < 48; i++) {
    mine.push(await deafPeer(host, token));
    // A socket cut at once is closed within the turn of the event loop that cut it (before this
    // auth.ok can arrive); one more turn for margin.
    await new Promise((r) => setImmediate(r));
    most = Math.max(most, mine.filter((s) => s.readyState !== WebSocket.CLOSED).length);
  }
  expect(most).toBeLessThanOrEqual(16);
  // The live ones stay: a valid token always gets in.
  expect(mine.slice(-8).every((s) => s.readyState === WebSocket.OPEN)).toBe(true);
});
