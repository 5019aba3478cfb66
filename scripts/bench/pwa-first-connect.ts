// What a phone downloads before the app's first WebSocket message, on a cold load (no HTTP cache, no
// service worker) of a paired app, against the daemon in its own process: the bytes that actually
// travel (compressed, as the browser accepts them). Target: <= 60 KB. For scale, the same load with
// compression refused (Accept-Encoding: identity), measured in the same run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startDaemonProcess } from './daemon-process.js';
import { FORGET_APP, PUT_AUTH, pairedHome } from './pwa-browser.js';
import { report } from './stats.js';

const TARGET_KB = 60;

/** Bytes received (encoded, headers included) from navigation until the first WebSocket frame is sent. */
async function coldLoadBytes(url: string, auth: Record<string, unknown>, identity: boolean): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-bench-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 360, height: 640 },
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${url}/#`);
    await page.evaluate(`(${PUT_AUTH})(${JSON.stringify(auth)})`);
    // Cold: no service worker, no HTTP cache; the paired state (IndexedDB) stays.
    await page.evaluate(`(${FORGET_APP})()`);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.clearBrowserCache');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    if (identity) await cdp.send('Network.setExtraHTTPHeaders', { headers: { 'Accept-Encoding': 'identity' } });
    let bytes = 0;
    let counting = true;
    const firstFrame = new Promise<void>((resolve) => {
      cdp.on('Network.webSocketFrameSent', () => {
        counting = false;
        resolve();
      });
    });
    cdp.on('Network.loadingFinished', (e: { encodedDataLength: number }) => {
      if (counting) bytes += e.encodedDataLength;
    });
    await page.reload({ waitUntil: 'commit' });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      firstFrame,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('no WebSocket frame within 20 s')), 20_000);
      }),
    ]).finally(() => clearTimeout(timer));
    await cdp.detach();
    return bytes;
  } finally {
    await context.close().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const { home, auth } = await pairedHome('errand-bench-connect-');
const daemon = await startDaemonProcess(home);
let ok = false;
try {
  const compressed = await coldLoadBytes(daemon.url, auth, false);
  const plain = await coldLoadBytes(daemon.url, auth, true);
  console.log(
    `before the first WebSocket message: ${(compressed / 1024).toFixed(1)} KB (compression refused: ${(plain / 1024).toFixed(1)} KB)`,
  );
  ok = report(
    'bytes before the first WebSocket message',
    `${(compressed / 1024).toFixed(1)} KB`,
    compressed <= TARGET_KB * 1024,
    `<= ${TARGET_KB} KB`,
  );
} finally {
  await daemon.stop();
  fs.rmSync(home, { recursive: true, force: true });
}
process.exitCode = ok ? 0 : 1;
