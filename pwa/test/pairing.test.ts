// Pairing from the QR code URL, in Chromium against the real daemon.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../daemon/test/helpers/daemon.js';
import { type Browser, ensureBuilt, launch, readKv, shot } from './helpers/browser.js';

/** The first test pairs this browser: from then on a pairing link asks before it shows the form. */
async function pairAgain(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Pair again' }).click();
}

describe('pairing in the browser', () => {
  let td: TestDaemon;
  let b: Browser;
  beforeAll(async () => {
    await ensureBuilt();
    td = await startTestDaemon();
    b = await launch();
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await td?.stop();
  });

  it('pairs from the QR URL: code read and removed from the address bar, approval, token stored, app connects', async () => {
    const { page } = b;
    const { url, code } = td.mintPairCode();
    const claims: { id: string; name: string }[] = [];
    td.daemon.pairing.events.on('claim', (c: { id: string; name: string }) => claims.push(c));
    // The desktop approves as soon as the claim reaches it; the claim itself is held back here until
    // the phone has shown "Approve on your computer".
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    await page.route('**/api/pair/claim', async (route) => {
      await released;
      await route.continue();
    });
    td.approveNextClaim();
    await page.goto(url);
    const nameField = page.getByLabel('Name for this device');
    await nameField.waitFor();
    // The code left the address bar (and history) at once.
    expect(new URL(page.url()).hash).toBe('');
    expect(await page.evaluate(() => location.href)).not.toContain(code);
    // Prefilled from the platform.
    expect((await nameField.inputValue()).length).toBeGreaterThan(0);
    // It names the computer it pairs with (asked for with the live code, which stays unused).
    const os = await import('node:os');
    await expect.poll(() => page.getByTestId('pair-host').innerText()).toBe(`with ${os.hostname()}`);
    await shot(page, '01-pair-name');
    await nameField.fill('Pixel test');
    await page.getByRole('button', { name: 'Pair this device' }).click();
    await page.getByText('Approve on your computer').waitFor();
    await shot(page, '02-pair-waiting');
    release();
    await expect.poll(() => claims.length).toBe(1);
    expect(claims[0].name).toBe('Pixel test');
    await page.unroute('**/api/pair/claim');

    await page.getByRole('heading', { name: 'Paired' }).waitFor();
    await page.getByRole('region', { name: 'Notifications' }).waitFor();
    await shot(page, '03-paired-welcome');
    const auth = await readKv<{ token: string; deviceId: string; deviceName: string }>(page, 'auth');
    expect(auth?.token.length).toBeGreaterThan(20);
    expect(auth?.deviceName).toBe('Pixel test');
    // The token is nowhere in the URL.
    expect(page.url()).not.toContain(auth!.token);

    await page.getByRole('button', { name: 'Start using Errand' }).click();
    await page.getByText('No threads yet.').waitFor();
    // Connected and authenticated as this device: the host shows it online.
    await expect.poll(() => td.daemon.gateway.online(auth!.deviceId)).toBe(true);
    expect(await page.getByText("Can't reach your computer").count()).toBe(0);
    await shot(page, '04-threads-empty');

    // Settings: this device by name, the host online, the device list from the host.
    await page.getByRole('button', { name: 'Settings' }).click();
    await expect.poll(() => page.getByLabel("This device's name").inputValue()).toBe('Pixel test');
    await page.getByText('(this device)').waitFor();
    await page.locator('dd', { hasText: /^Online$/ }).waitFor();
    await shot(page, '05-settings');
  });

  it('explains a used or expired code and how to get a new one', async () => {
    const page = await b.context.newPage();
    const { url, code } = td.mintPairCode();
    td.approveNextClaim();
    const res = await fetch(`${td.url}/api/pair/claim`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code, name: 'first' }),
    });
    expect(res.status).toBe(200);
    // A used code names no computer.
    const peek = await fetch(`${td.url}/api/pair/peek`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
    });
    expect(peek.status).toBe(404);
    await page.goto(url);
    await pairAgain(page);
    await page.getByRole('button', { name: 'Pair this device' }).click();
    await page.getByText('This pairing code cannot be used').waitFor();
    await expect(page.getByText('run `errand pair` again').count()).resolves.toBe(1);
    await shot(page, '06-pair-code-used');
    await page.close();
  });

  it('says so when pairing is denied on the computer', async () => {
    const page = await b.context.newPage();
    const { url } = td.mintPairCode();
    td.daemon.pairing.events.once('claim', (c: { id: string }) => td.daemon.pairing.decide(c.id, false));
    await page.goto(url);
    await pairAgain(page);
    await page.getByRole('button', { name: 'Pair this device' }).click();
    await page.getByText('Pairing was denied').first().waitFor();
    await page.getByText('run `errand pair` again').waitFor();
    expect(await page.getByRole('button', { name: 'Try pairing again' }).count()).toBe(0);
    await page.close();
  });

  it('a pairing link opened in the app already open asks, then shows the pairing form', async () => {
    const page = await b.context.newPage();
    await page.goto(`${td.url}/`);
    await page.locator('#app *').first().waitFor();
    const { code } = td.mintPairCode();
    await page.evaluate((c) => {
      location.hash = `#pair=${c}`;
    }, code);
    await page.getByRole('heading', { name: 'Already paired' }).waitFor({ timeout: 15_000 });
    await pairAgain(page);
    await page.getByLabel('Name for this device').waitFor();
    expect(new URL(page.url()).hash).toBe('');
    await page.close();
  });

  it('refuses a damaged link without contacting anything', async () => {
    const page = await b.context.newPage();
    let claimed = false;
    page.on('request', (r) => {
      if (r.url().includes('/api/pair')) claimed = true;
    });
    await page.goto(`${td.url}/#pair=short`);
    await pairAgain(page);
    await page.getByText('This pairing link is incomplete or damaged.').waitFor();
    expect(claimed).toBe(false);
    await page.close();
  });

  it('a device revoked while the app was closed is told so when it opens', async () => {
    const { page } = b;
    await page.goto(`${td.url}/#`);
    const auth = await readKv<{ deviceId: string }>(page, 'auth');
    expect(auth).toBeDefined();
    await page.goto('about:blank');
    const laptop = await td.connect();
    await laptop.send({ type: 'device.revoke', deviceId: auth!.deviceId });
    laptop.close();
    await page.goto(`${td.url}/`);
    await page.getByRole('heading', { name: 'This device was removed' }).waitFor({ timeout: 15_000 });
    await expect.poll(() => readKv(page, 'auth')).toBeUndefined();
  });
});
