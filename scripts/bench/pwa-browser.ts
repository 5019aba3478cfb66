// What the phone-app benchmarks share: a paired home, the Debian Chromium at phone size through
// playwright-core, and a low-end phone's budget applied through CDP (4x CPU slowdown, 150 ms latency,
// 1.6 Mbps down, 750 kbps up).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, type CDPSession, chromium, type Page } from 'playwright-core';
import { homePaths } from '../../daemon/src/config/paths.js';
import { openStore } from '../../daemon/src/store/index.js';

export type Store = Awaited<ReturnType<typeof openStore>>;

export interface PairedHome {
  home: string;
  /** The record the app keeps in IndexedDB once paired. */
  auth: Record<string, unknown>;
  token: string;
}

/** A home with one paired phone; `fill` may add threads before the store closes (a snapshot). */
export async function pairedHome(prefix: string, fill?: (store: Store) => Promise<void>): Promise<PairedHome> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const store = await openStore(homePaths(home));
  const { device, token } = await store.devices.add('bench phone', undefined);
  if (fill) await fill(store);
  await store.close();
  return {
    home,
    token,
    auth: { token, deviceId: device.id, hostName: 'bench', deviceName: 'bench phone', pairedAt: Date.now() },
  };
}

// Run in the page (as text: the benches are compiled without the DOM's types).
export const PUT_AUTH = `(a) => new Promise((resolve, reject) => {
  const req = indexedDB.open('errand');
  req.onerror = () => reject(req.error);
  req.onupgradeneeded = () => { req.result.createObjectStore('kv'); req.result.createObjectStore('outbox'); };
  req.onsuccess = () => {
    const tx = req.result.transaction('kv', 'readwrite');
    tx.objectStore('kv').put(a, 'auth');
    tx.oncomplete = () => { req.result.close(); resolve(); };
    tx.onerror = () => reject(tx.error);
  };
})`;
export const FORGET_APP = `async () => {
  for (const r of await navigator.serviceWorker.getRegistrations()) await r.unregister();
  for (const k of await caches.keys()) await caches.delete(k);
}`;

export interface Phone {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  close(): Promise<void>;
}

/** A fresh Chromium profile at 360x640 (removed on close). */
export async function launchPhone(): Promise<Phone> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-bench-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 360, height: 640 },
    deviceScaleFactor: 2,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const cdp = await context.newCDPSession(page);
  return {
    context,
    page,
    cdp,
    async close() {
      await context.close().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const CPU_SLOWDOWN = 4;

/** The low-end phone: CPU only, or CPU and network. */
export async function throttle(cdp: CDPSession, network: boolean): Promise<void> {
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
  if (!network) return;
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 150,
    downloadThroughput: (1.6 * 1024 * 1024) / 8,
    uploadThroughput: (750 * 1024) / 8,
  });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
