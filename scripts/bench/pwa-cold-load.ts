// A cold load of the paired phone app on a low-end phone (CDP: 4x CPU slowdown, 150 ms latency,
// 1.6 Mbps down; 360x640; no HTTP cache, no service worker), against the daemon in its own process.
// Baseline in the same run, rounds interleaved: a hello-world Preact page built with the same
// toolchain (vite + @preact/preset-vite), served compressed from loopback like the app.
// Targets: the app's first WebSocket frame <= 1,000 ms after navigation starts; its first
// contentful paint <= 1.3x the hello-world page's.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import preact from '@preact/preset-vite';
import { build } from 'vite';
import { PROJECT_ROOT } from '../../daemon/src/util/project-root.js';
import { startDaemonProcess } from './daemon-process.js';
import { FORGET_APP, launchPhone, median, type Phone, PUT_AUTH, pairedHome, throttle } from './pwa-browser.js';
import { report } from './stats.js';

const ROUNDS = 5;
const TARGET_FIRST_FRAME_MS = 1000;
const TARGET_FCP_RATIO = 1.3;

// In the page, before any script of its own: when the first WebSocket frame leaves.
const FIRST_SEND = `(() => {
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (d) {
    if (window.__firstSend === undefined) window.__firstSend = performance.now();
    return send.call(this, d);
  };
})()`;

/** Build the hello-world page with the app's toolchain into a temp folder. */
async function buildHelloWorld(dir: string): Promise<string> {
  fs.writeFileSync(
    path.join(dir, 'index.html'),
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Hello</title></head><body><div id="app"></div><script type="module" src="/main.tsx"></script></body></html>',
  );
  fs.writeFileSync(
    path.join(dir, 'main.tsx'),
    "import { render } from 'preact';\nrender(<h1>Hello, world</h1>, document.getElementById('app')!);\n",
  );
  const out = path.join(dir, 'dist');
  await build({
    root: dir,
    logLevel: 'silent',
    configFile: false,
    plugins: [preact()],
    build: { outDir: out, emptyOutDir: true, target: 'es2022', modulePreload: { polyfill: false } },
  });
  return out;
}

/** Serve a folder with brotli, as the daemon serves the app. */
function serveStatic(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
  const server = http.createServer((req, res) => {
    const rel = (req.url ?? '/').split('?')[0];
    const file = path.join(dir, rel === '/' ? 'index.html' : rel);
    if (!file.startsWith(dir) || !fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const body = zlib.brotliCompressSync(fs.readFileSync(file));
    res.writeHead(200, {
      'content-type': types[path.extname(file)] ?? 'application/octet-stream',
      'content-encoding': 'br',
      'cache-control': 'no-cache',
    });
    res.end(body);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        close: () => new Promise<void>((r) => server.close(() => r())),
      }),
    ),
  );
}

const FCP = `new Promise((resolve) => {
  const found = () => performance.getEntriesByName('first-contentful-paint')[0];
  const check = () => (found() ? resolve(found().startTime) : setTimeout(check, 20));
  check();
})`;

/** One cold load: caches and service worker gone, throttled, then navigate and wait for `ready`. */
async function coldLoad(
  phone: Phone,
  url: string,
  ready: 'app' | 'hello',
): Promise<{ fcp: number; firstSend?: number }> {
  const { page, cdp } = phone;
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: -1,
  });
  await page.goto(url);
  await page.evaluate(`(${FORGET_APP})()`);
  await cdp.send('Network.clearBrowserCache');
  await page.goto('about:blank');
  await throttle(cdp, true);
  await page.goto(url, { waitUntil: 'commit' });
  // A function, not a string: the app's CSP forbids evaluating strings.
  await page.waitForFunction(
    (what) => {
      const g = globalThis as unknown as { __firstSend?: number; document: { querySelector(s: string): unknown } };
      return what === 'app' ? g.__firstSend !== undefined : !!g.document.querySelector('h1');
    },
    ready,
    { timeout: 60_000, polling: 50 },
  );
  const fcp = (await page.evaluate(FCP)) as number;
  const firstSend = (await page.evaluate('window.__firstSend')) as number | undefined;
  return { fcp, ...(firstSend !== undefined ? { firstSend } : {}) };
}

// Inside the project (under node_modules/.cache), so the page resolves preact like the app does.
const cache = path.join(PROJECT_ROOT, 'node_modules', '.cache');
fs.mkdirSync(cache, { recursive: true });
const work = fs.mkdtempSync(path.join(cache, 'errand-bench-hello-'));
const { home, auth } = await pairedHome('errand-bench-cold-home-');
let daemon: Awaited<ReturnType<typeof startDaemonProcess>> | undefined;
let hello: Awaited<ReturnType<typeof serveStatic>> | undefined;
let phone: Phone | undefined;
let ok = false;
try {
  hello = await serveStatic(await buildHelloWorld(work));
  daemon = await startDaemonProcess(home, {});
  phone = await launchPhone();
  await phone.page.addInitScript(FIRST_SEND);
  await phone.page.goto(`${daemon.url}/#`);
  await phone.page.evaluate(`(${PUT_AUTH})(${JSON.stringify(auth)})`);
  await phone.cdp.send('Network.enable');

  const app: Array<{ fcp: number; firstSend?: number }> = [];
  const base: number[] = [];
  const appLoad = () => coldLoad(phone!, `${daemon!.url}/#`, 'app');
  const helloLoad = async () => (await coldLoad(phone!, `${hello!.url}/`, 'hello')).fcp;
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2) {
      app.push(await appLoad());
      base.push(await helloLoad());
    } else {
      base.push(await helloLoad());
      app.push(await appLoad());
    }
    const a = app[app.length - 1];
    console.log(
      `round ${r + 1}: app first paint ${a.fcp.toFixed(0)} ms, first WebSocket frame ${a.firstSend?.toFixed(0)} ms · hello world first paint ${base[base.length - 1].toFixed(0)} ms`,
    );
  }
  const fcp = median(app.map((a) => a.fcp));
  const baseFcp = median(base);
  const firstFrame = median(app.map((a) => a.firstSend ?? Number.POSITIVE_INFINITY));
  console.log(`cold loads, CPU 4x slower, 150 ms latency, 1.6 Mbps down; medians of ${ROUNDS}`);
  const results = [
    report(
      'cold load: first WebSocket frame',
      `${firstFrame.toFixed(0)} ms`,
      firstFrame <= TARGET_FIRST_FRAME_MS,
      `<= ${TARGET_FIRST_FRAME_MS} ms`,
    ),
    report(
      'cold load: first contentful paint vs hello-world Preact',
      `${fcp.toFixed(0)} ms vs ${baseFcp.toFixed(0)} ms (${(fcp / baseFcp).toFixed(2)}x)`,
      fcp <= baseFcp * TARGET_FCP_RATIO,
      `<= ${TARGET_FCP_RATIO}x`,
    ),
  ];
  ok = results.every(Boolean);
} finally {
  await phone?.close();
  await daemon?.stop();
  await hello?.close();
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(home, { recursive: true, force: true });
}
process.exitCode = ok ? 0 : 1;
