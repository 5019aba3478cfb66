// Browser test plumbing: build the PWA once (guarded, since test files run in parallel), launch the
// Debian Chromium through playwright-core at phone size, and save screenshots for people to look at.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { startTestDaemon, type TestDaemon } from '../../../daemon/test/helpers/daemon.js';
import { type ModelServer, startModelServer } from '../../../daemon/test/helpers/model-server.js';

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DIST = path.join(ROOT, 'pwa/dist');
const SHOTS = path.join(ROOT, 'test-output/screenshots');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

function sourcesMtime(): number {
  return Math.max(
    newestMtime(path.join(ROOT, 'pwa/src')),
    newestMtime(path.join(ROOT, 'pwa/public')),
    newestMtime(path.join(ROOT, 'shared/src')),
    fs.statSync(path.join(ROOT, 'pwa/index.html')).mtimeMs,
    fs.statSync(path.join(ROOT, 'pwa/vite.config.ts')).mtimeMs,
  );
}

function isFresh(): boolean {
  const idx = path.join(DIST, 'sw.js');
  return (
    fs.existsSync(idx) && fs.existsSync(path.join(DIST, 'index.html')) && fs.statSync(idx).mtimeMs >= sourcesMtime()
  );
}

/** Build pwa/dist unless it is newer than every source. One builder at a time across test files. */
export async function ensureBuilt(): Promise<void> {
  const lock = path.join(os.tmpdir(), `errand-pwa-build-${Buffer.from(ROOT).toString('hex').slice(-16)}.lock`);
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (isFresh()) return;
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      // Someone else builds; a lock older than two minutes is stale.
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 120_000) fs.rmSync(lock, { recursive: true, force: true });
      } catch {
        /* gone */
      }
      if (Date.now() > deadline) throw new Error('timed out waiting for the PWA build lock');
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  try {
    if (!isFresh())
      await run(
        process.execPath,
        [
          path.join(ROOT, 'node_modules/vite/bin/vite.js'),
          'build',
          '--config',
          'pwa/vite.config.ts',
          '--logLevel',
          'error',
        ],
        { cwd: ROOT, env: { ...process.env, NODE_ENV: 'production' } },
      );
    // The compressed copies the daemon serves, as `npm run build` makes them.
    if (!isFresh() || !fs.readdirSync(path.join(ROOT, 'pwa/dist/assets')).some((f) => f.endsWith('.br')))
      await run(process.execPath, [path.join(ROOT, 'scripts/precompress.mjs')], { cwd: ROOT, env: process.env });
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  dir: string;
  close(): Promise<void>;
}

export async function launch(): Promise<Browser> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 360, height: 640 },
    deviceScaleFactor: 2,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const close = async () => {
    await context.close().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  try {
    return await prepare(context, dir, close);
  } catch (err) {
    await close();
    throw err;
  }
}

async function prepare(context: BrowserContext, dir: string, close: () => Promise<void>): Promise<Browser> {
  context.setDefaultTimeout(10_000);
  // Record any Content-Security-Policy violation, so tests can assert the app needs no exceptions.
  await context.addInitScript(() => {
    const w = window as unknown as { cspViolations: string[] };
    w.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  const page = context.pages()[0] ?? (await context.newPage());
  // Page errors and warnings help when a test fails; expected reconnect noise is left out.
  page.on('console', (m) => {
    if (
      (m.type() === 'error' || m.type() === 'warning') &&
      !/WebSocket connection to|Failed to load resource/.test(m.text())
    )
      console.error('[console]', m.text());
  });
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  return { context, page, dir, close };
}

export async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** Pair the browser through the real UI flow, approving on the "desktop" side. */
export async function pairThroughUi(
  page: Page,
  td: {
    mintPairCode(): { url: string };
    daemon: { pairing: { events: import('node:events').EventEmitter; decide(id: string, ok: boolean): boolean } };
  },
  name = 'Test phone',
): Promise<void> {
  const { url } = td.mintPairCode();
  td.daemon.pairing.events.once('claim', (c: { id: string }) => td.daemon.pairing.decide(c.id, true));
  await page.goto(url);
  // The first load of the app (no service worker yet) can take over 10 s on a loaded machine.
  await page.getByLabel('Name for this device').waitFor({ timeout: 30_000 });
  await page.getByLabel('Name for this device').fill(name);
  await page.getByRole('button', { name: 'Pair this device' }).click();
  await page.getByRole('heading', { name: 'Paired' }).waitFor();
  await page.getByRole('button', { name: 'Start using Errand' }).click();
  await page.getByRole('button', { name: 'New task' }).waitFor();
  // The service worker has installed (precached the shell) and controls the page.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 20_000 });
}

/** A phone-sized browser, paired through the UI with a real daemon that talks to a scripted model. */
export interface PhoneRig {
  model: ModelServer;
  td: TestDaemon;
  b: Browser;
  close(): Promise<void>;
}

export async function startPhoneRig(deviceName: string): Promise<PhoneRig> {
  await ensureBuilt();
  const model = await startModelServer();
  const td = await startTestDaemon({
    env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: model.url },
    config: { shell: { sandbox: 'off' } },
  });
  let b: Browser | undefined;
  try {
    b = await launch();
    await pairThroughUi(b.page, td, deviceName);
  } catch (err) {
    // A setup that fails leaves nothing behind: the test file never gets a rig to close.
    await b?.close();
    await td.stop();
    await model.close();
    throw err;
  }
  return {
    model,
    td,
    b,
    async close() {
      await b.close();
      await td.stop();
      await model.close();
    },
  };
}

/** Read a value from the app's IndexedDB key-value store. */
export function readKv<T>(page: Page, key: string): Promise<T | undefined> {
  return page.evaluate(
    (k) =>
      new Promise<T | undefined>((resolve, reject) => {
        const req = indexedDB.open('errand');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const tx = req.result.transaction('kv', 'readonly');
          const g = tx.objectStore('kv').get(k);
          g.onsuccess = () => {
            resolve(g.result as T | undefined);
            req.result.close();
          };
          g.onerror = () => reject(g.error);
        };
      }),
    key,
  );
}

/** Interactive elements on the page without an accessible name (should be none). */
export function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const bad: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>(
      'button, a[href], input:not([type=hidden]), textarea, select, [role=switch], [role=tab]',
    )) {
      if (el.hidden || el.closest('[hidden]')) continue;
      const labelled =
        el.getAttribute('aria-label') ||
        el.getAttribute('aria-labelledby') ||
        el.getAttribute('title') ||
        ((el as HTMLInputElement).labels?.length ? (el as HTMLInputElement).labels![0].textContent : '') ||
        el.textContent;
      if (!labelled?.trim()) bad.push(el.outerHTML.slice(0, 120));
    }
    return bad;
  });
}

/** CSP violations seen by the current document (recorded from the first script on). */
export function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { cspViolations?: string[] }).cspViolations ?? ['(not recorded)']);
}

/** Visible controls smaller than 44 × 44 px (a control inside a label counts by the label). */
export const tooSmall = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll('button, a[href], input, textarea, select, summary, [role=switch]')]
      .filter((e) => (e as HTMLElement).offsetParent !== null)
      .map((e) => {
        const target = (e.closest('label') as HTMLElement | null) ?? (e as HTMLElement);
        const r = target.getBoundingClientRect();
        return { label: e.getAttribute('aria-label') ?? e.textContent?.trim().slice(0, 40), w: r.width, h: r.height };
      })
      .filter((x) => x.w < 43.5 || x.h < 43.5),
  );

/**
 * Visible text whose contrast with what is behind it is under 4.5:1 (WCAG AA for body text), with
 * the opacity of the text and its ancestors taken into account, and the placeholder of an empty field.
 * Disabled controls are left out.
 */
export const lowContrast = (page: Page) =>
  page.evaluate(() => {
    type RGBA = [number, number, number, number];
    const parse = (c: string): RGBA | undefined => {
      const m = /rgba?\(([^)]+)\)/.exec(c);
      if (!m) return undefined;
      const v = m[1]
        .split(/[\s,/]+/)
        .filter(Boolean)
        .map(Number);
      return [v[0], v[1], v[2], v[3] ?? 1];
    };
    const blend = (fg: RGBA, bg: RGBA): RGBA => [
      fg[0] * fg[3] + bg[0] * (1 - fg[3]),
      fg[1] * fg[3] + bg[1] * (1 - fg[3]),
      fg[2] * fg[3] + bg[2] * (1 - fg[3]),
      1,
    ];
    const lum = ([r, g, b]: RGBA) => {
      const f = (x: number) => {
        const s = x / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    /** The solid colour behind an element: its own and its ancestors' backgrounds, blended. */
    const behind = (e: Element | null): RGBA => {
      const layers: RGBA[] = [];
      for (let a = e; a; a = a.parentElement) {
        const c = parse(getComputedStyle(a).backgroundColor);
        if (c && c[3] > 0) {
          layers.push(c);
          if (c[3] >= 1) break;
        }
      }
      let bg: RGBA = parse(getComputedStyle(document.documentElement).backgroundColor) ?? [255, 255, 255, 1];
      if (bg[3] < 1) bg = [255, 255, 255, 1];
      for (let i = layers.length - 1; i >= 0; i--) bg = blend(layers[i], bg);
      return bg;
    };
    const out: string[] = [];
    const ratioOf = (fg: RGBA, bg: RGBA) => {
      const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
      return (hi + 0.05) / (lo + 0.05);
    };
    // A placeholder shown in an empty field (the UA's grey was 3.5:1 on the dark field).
    for (const f of document.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>(
      'input[placeholder], textarea[placeholder]',
    )) {
      if (f.value || !f.offsetParent || f.disabled) continue;
      const r = f.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || r.bottom < 0 || r.top > innerHeight) continue;
      const color = parse(getComputedStyle(f, '::placeholder').color);
      if (!color) continue;
      const bg = behind(f);
      const ratio = ratioOf(blend(color, bg), bg);
      if (ratio < 4.5)
        out.push(`${f.tagName.toLowerCase()}::placeholder "${f.placeholder.slice(0, 30)}" ${ratio.toFixed(2)}`);
    }
    for (const e of document.querySelectorAll('body *')) {
      const el = e as HTMLElement;
      if (!el.offsetParent && getComputedStyle(el).position !== 'fixed') continue;
      if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent?.trim())) continue;
      if (el.closest('[disabled], [aria-disabled=true], [aria-hidden=true]')) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || r.bottom < 0 || r.top > innerHeight) continue;
      const color = parse(getComputedStyle(el).color);
      if (!color) continue;
      let opacity = 1;
      let faded: Element | undefined;
      for (let a: Element | null = el; a; a = a.parentElement) {
        const o = Number(getComputedStyle(a).opacity);
        if (o < 1) {
          opacity *= o;
          faded = a;
        }
      }
      let bg = behind(el);
      let fg = blend(color, bg);
      if (faded) {
        const under = behind(faded.parentElement);
        fg = blend([fg[0], fg[1], fg[2], opacity], under);
        bg = blend([bg[0], bg[1], bg[2], opacity], under);
      }
      const ratio = ratioOf(fg, bg);
      if (ratio < 4.5)
        out.push(
          `${el.tagName.toLowerCase()}.${el.className} "${el.textContent!.trim().slice(0, 30)}" ${ratio.toFixed(2)}`,
        );
    }
    return out;
  });
