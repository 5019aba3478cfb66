// A new version of the app is picked up without reinstalling: the waiting service worker is
// announced, and "Reload" switches to it. Served from a copy of pwa/dist so the change stays here.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Daemon, startDaemon } from '../../daemon/src/daemon.js';
import { tempHome } from '../../daemon/test/helpers/daemon.js';
import { type Browser, ensureBuilt, launch, pairThroughUi, ROOT } from './helpers/browser.js';

describe('app updates', () => {
  let daemon: Daemon;
  let b: Browser;
  let dist: string;
  let home: string;
  beforeAll(async () => {
    await ensureBuilt();
    dist = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-dist-'));
    fs.cpSync(path.join(ROOT, 'pwa/dist'), dist, { recursive: true });
    home = tempHome();
    daemon = await startDaemon({ home, env: {}, overrides: { port: 0 }, pwaDir: dist });
    b = await launch();
    const td = {
      mintPairCode: () => ({ url: `${daemon.url}/#pair=${daemon.pairing.mint().code}` }),
      daemon,
    };
    await pairThroughUi(b.page, td, 'Update phone');
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await daemon?.stop('test');
    fs.rmSync(dist, { recursive: true, force: true });
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  it('announces a waiting new version and reloads into it', async () => {
    const { page } = b;
    const before = await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL);
    expect(before).toBe(`${daemon.url}/sw.js`);
    expect(await page.getByText('A new version is ready.').count()).toBe(0);
    // Ship a new build: a changed service worker (the precache manifest's revisions change with it).
    const sw = path.join(dist, 'sw.js');
    fs.writeFileSync(sw, `${fs.readFileSync(sw, 'utf8')}\n// build 2\n`);
    await page.evaluate(async () => {
      await (await navigator.serviceWorker.getRegistration('/'))?.update();
    });
    await page.getByText('A new version is ready.').waitFor({ timeout: 20_000 });
    // Still running the old one until the user chooses.
    const waiting = await page.evaluate(
      async () => (await navigator.serviceWorker.getRegistration('/'))?.waiting?.state,
    );
    expect(waiting).toBe('installed');
    await page.evaluate(() => {
      (window as unknown as { oldPage: boolean }).oldPage = true;
    });
    await page.getByRole('button', { name: 'Reload to update' }).click();
    // The page reloads itself once the new worker has taken over.
    await expect
      .poll(
        () => page.evaluate(() => (window as unknown as { oldPage?: boolean }).oldPage ?? false).catch(() => true),
        { timeout: 15_000 },
      )
      .toBe(false);
    await page.getByRole('button', { name: 'New task' }).waitFor();
    await expect
      .poll(() =>
        page.evaluate(async () => {
          const r = await navigator.serviceWorker.getRegistration('/');
          return { waiting: !!r?.waiting, active: r?.active?.state };
        }),
      )
      .toEqual({ waiting: false, active: 'activated' });
    expect(await page.getByText('A new version is ready.').count()).toBe(0);
  });
});
