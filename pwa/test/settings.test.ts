// Settings against the real daemon: this device's name, other devices and revoking them, host
// status, the notifications switch's explanations, and what happens when this device is revoked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../daemon/test/helpers/daemon.js';
import {
  type Browser,
  cspViolations,
  ensureBuilt,
  launch,
  pairThroughUi,
  readKv,
  shot,
  unnamedControls,
} from './helpers/browser.js';

const IPHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1';

describe('settings', () => {
  let td: TestDaemon;
  let b: Browser;
  beforeAll(async () => {
    await ensureBuilt();
    td = await startTestDaemon();
    b = await launch();
    await pairThroughUi(b.page, td, 'Settings phone');
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await td?.stop();
  });

  it('renames this device and revokes another one', async () => {
    const { page } = b;
    const other = await td.pairDevice('Old tablet');
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByText('Old tablet').waitFor();
    const field = page.getByLabel("This device's name");
    await expect.poll(() => field.inputValue()).toBe('Settings phone');
    await field.fill('Renamed phone');
    await page.getByRole('button', { name: 'Save device name' }).click();
    await page.getByText('Saved.').waitFor();
    const auth = await readKv<{ deviceId: string }>(page, 'auth');
    await expect.poll(() => td.daemon.ctx.store.devices.get(auth!.deviceId)?.name).toBe('Renamed phone');

    await page.getByRole('button', { name: 'Revoke Old tablet' }).click();
    await page.getByRole('button', { name: 'Confirm revoke Old tablet' }).click();
    await expect.poll(() => page.getByText('Old tablet').count()).toBe(0);
    expect(td.daemon.ctx.store.devices.get(other.deviceId)).toBeUndefined();
    // This device cannot revoke itself from the list (that is "Unpair").
    expect(await page.getByRole('button', { name: /^Revoke Renamed phone/ }).count()).toBe(0);
    await shot(page, '30-settings-devices');
    expect(await cspViolations(page)).toEqual([]);
    expect(await unnamedControls(page)).toEqual([]);
  });

  it('keeps a task\'s cost under "Usage" unless Display shows it inline', async () => {
    const { page } = b;
    const doc = await td.daemon.ctx.store.threads.create('Costly task', (d) => {
      const at = Date.now() - 60_000;
      d.items.push({ kind: 'user', id: 'u1', taskId: 'task1', text: 'Do the costly thing', createdAt: at });
      d.items.push({ kind: 'assistant', id: 'a1', taskId: 'task1', text: 'Done.', createdAt: at + 1 });
      d.tasks.push({
        id: 'task1',
        threadId: d.meta.id,
        state: 'done',
        messageId: 'u1',
        createdAt: at,
        endedAt: at + 2,
        turns: 1,
        usage: { inputTokens: 1200, outputTokens: 300, cacheReadTokens: 0, cacheWriteTokens: 0 },
        costUsd: 0.42,
      });
    });
    const usage = page.locator('.task-footer .usage');
    await page.goto(`${td.url}/#thread=${doc.meta.id}`);
    await page.locator('.task-footer summary', { hasText: 'Usage' }).waitFor();
    expect(await usage.isVisible()).toBe(false);

    await page.goto(`${td.url}/#settings`);
    const inline = page.getByRole('switch', { name: 'Show cost under each task' });
    await inline.check();
    await page.goto(`${td.url}/#thread=${doc.meta.id}`);
    await expect.poll(() => usage.isVisible()).toBe(true);
    expect(await usage.innerText()).toBe('1.2k in · 300 out tokens · $0.42');
    expect(await page.locator('.task-footer summary').count()).toBe(0);
    await page.reload(); // a preference of this phone: kept
    await expect.poll(() => usage.isVisible()).toBe(true);
    await page.goto(`${td.url}/#settings`);
    await inline.uncheck();
  });

  it('a switch is visible off and on: its track 3:1 against the card, its knob 3:1 against the track', async () => {
    const { page } = b;
    await page.goto(`${td.url}/#settings`);
    const display = page.getByRole('switch', { name: 'Show cost under each task' });
    await display.waitFor();
    // The off track was --border: 1.39:1 on the white card, 1.48:1 in dark (WCAG 1.4.11 needs 3:1).
    for (const scheme of ['light', 'dark'] as const) {
      // Reduced motion: no colour transition, so the colours read are the ones at rest.
      await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
      for (const on of [false, true]) {
        await display.setChecked(on);
        const ratios = await display.evaluate(switchContrast);
        expect({ scheme, on, track: ratios.track >= 3, knob: ratios.knob >= 3, ratios }).toMatchObject({
          scheme,
          on,
          track: true,
          knob: true,
        });
      }
      await display.setChecked(false);
      await shot(page, `settings-switch-off-${scheme}`);
    }
    await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'no-preference' });
  });

  it('sets spending limits from Settings', async () => {
    const { page } = b;
    await page.goto(`${td.url}/#settings`);
    const card = page.getByRole('region', { name: 'Spending' });
    await card.waitFor({ timeout: 10_000 });
    await card.getByLabel('Daily cap ($, empty for none)').fill('7');
    await card.getByRole('button', { name: 'Save spending limits' }).click();
    await card.getByText('Saved.').waitFor();
    await expect.poll(() => td.daemon.ctx.config().spend?.dailyUsd).toBe(7);
    await card.getByText(/Today \$0\.00 of \$7\.00/).waitFor();
  });

  it('an emptied per-task limit is removed: tasks no longer pause at a cost', async () => {
    const { page } = b;
    await page.goto(`${td.url}/#settings`);
    const card = page.getByRole('region', { name: 'Spending' });
    const perTask = card.getByLabel('Per task: pause and ask at ($, empty for none)');
    await perTask.fill('3');
    await card.getByRole('button', { name: 'Save spending limits' }).click();
    await expect.poll(() => td.daemon.ctx.config().agent.maxCostUsd).toBe(3);
    await perTask.fill('');
    await card.getByRole('button', { name: 'Save spending limits' }).click();
    await expect.poll(() => td.daemon.ctx.config().agent.maxCostUsd).toBeNull();
    expect(td.daemon.ctx.status().spend?.perTaskUsd).toBeUndefined();
    // The host's answer (and a fresh status after a reload) leave the field empty, not back at a figure.
    await page.reload();
    await card.getByText(/^Today \$\d+\.\d\d/).waitFor();
    await expect.poll(() => perTask.inputValue()).toBe('');
  });

  it("a limit being typed is not overwritten when the host's limits change meanwhile", async () => {
    const { page } = b;
    await page.goto(`${td.url}/#settings`);
    const card = page.getByRole('region', { name: 'Spending' });
    const daily = card.getByLabel('Daily cap ($, empty for none)');
    await daily.fill('7');
    // Another device changes the limits before this one saves.
    const other = await td.connect();
    await other.send({ type: 'spend.set', monthlyUsd: 90 });
    await card.getByText(/of \$90\.00/).waitFor();
    expect(await daily.inputValue()).toBe('7');
    await card.getByRole('button', { name: 'Save spending limits' }).click();
    await expect.poll(() => td.daemon.ctx.config().spend.dailyUsd).toBe(7);
    other.close();
  });

  it('explains blocked notifications', async () => {
    const { page, context } = b;
    const cdp = await context.newCDPSession(page);
    await cdp.send('Browser.setPermission', {
      permission: { name: 'notifications' },
      setting: 'denied',
      origin: td.url,
    });
    await page.reload();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    await page.getByText('Notifications are blocked for Errand.').waitFor();
    expect(await page.getByRole('switch', { name: 'Notifications' }).count()).toBe(0);
    await cdp.send('Browser.resetPermissions', {});
    await page.reload();
    await page.getByRole('switch', { name: 'Notifications' }).waitFor();
    // This daemon has no push contact and no https address: the screen says iPhones may refuse.
    await page
      .getByRole('note', { name: 'Push contact' })
      .getByText(/placeholder Apple refuses/)
      .waitFor();
    await cdp.detach();
  });

  it('the notifications switch says "Turning on…" while it waits, and a refusal in plain words', async () => {
    const { context } = b;
    await context.grantPermissions(['notifications'], { origin: td.url });
    const page = await context.newPage();
    // The browser's push service (unreachable in this sandbox) answers when the test says so, with
    // the refusal Chromium gives when it fails.
    await page.addInitScript(() => {
      const w = window as unknown as { refusePush?: () => void };
      PushManager.prototype.subscribe = () =>
        new Promise((_resolve, reject) => {
          w.refusePush = () => reject(new DOMException('Registration failed - push service error', 'AbortError'));
        });
    });
    await page.goto(`${td.url}/#settings`);
    const toggle = page.getByRole('switch', { name: 'Notifications' });
    await expect.poll(() => toggle.isEnabled()).toBe(true);
    await toggle.click();
    await page.getByRole('status').getByText('Turning on…').waitFor();
    expect(await toggle.isDisabled()).toBe(true);
    await shot(page, '31-settings-push-turning-on');
    await page.waitForFunction(() => 'refusePush' in window);
    await page.evaluate(() => (window as unknown as { refusePush: () => void }).refusePush());
    await page
      .getByRole('alert')
      .getByText(
        "The browser's push service refused to turn notifications on. Check the phone's connection and try again.",
      )
      .waitFor();
    expect(await page.getByText('Registration failed', { exact: false }).count()).toBe(0);
    expect(await page.getByText('Turning on…').count()).toBe(0);
    await expect.poll(() => toggle.isEnabled()).toBe(true);
    expect(await toggle.isChecked()).toBe(false);
    await page.close();
    await context.clearPermissions();
  });

  it('on an iPhone outside the installed app, says to Add to Home Screen first', async () => {
    const page = await b.context.newPage();
    const cdp = await b.context.newCDPSession(page);
    await cdp.send('Emulation.setUserAgentOverride', { userAgent: IPHONE_UA, platform: 'iPhone' });
    await page.goto(`${td.url}/#settings`);
    await page.getByText('notifications work only in the installed app').waitFor();
    await page.getByText('Share').first().waitFor();
    await page.getByText('Add to Home Screen').first().waitFor();
    await shot(page, '31-settings-iphone');
    await page.close();
  });

  it("shows the host's warnings until dismissed", async () => {
    const { page } = b;
    await page.goto(`${td.url}/#`);
    await page.getByRole('button', { name: 'New task' }).waitFor();
    await td.daemon.ctx.emit({ kind: 'notice', level: 'warning', text: 'The disk is almost full.', at: Date.now() });
    const banner = page.getByRole('alert').filter({ hasText: 'The disk is almost full.' });
    await banner.waitFor();
    await page.getByRole('button', { name: 'Dismiss notice' }).click();
    await expect.poll(() => banner.count()).toBe(0);
  });

  it('while the computer is unreachable, this device is not said to be online', async () => {
    const { page } = b;
    const { home, port } = td;
    await page.goto(`${td.url}/#settings`);
    const devices = page.getByRole('region', { name: 'Paired devices' });
    await devices.getByText('Online now', { exact: false }).waitFor();
    await td.stop();
    await page.getByText("Can't reach your computer", { exact: false }).waitFor({ timeout: 15_000 });
    await devices.getByText('Not connected to your computer now', { exact: false }).waitFor();
    expect(await devices.getByText('Online now').count()).toBe(0);
    // The computer back: online again.
    td = await startTestDaemon({ home, config: { port } });
    await devices.getByText('Online now', { exact: false }).waitFor({ timeout: 30_000 });
  });

  it('signs out at once when this device is revoked on the computer', async () => {
    const { page } = b;
    await page.goto(`${td.url}/#`);
    await page.getByRole('button', { name: 'New task' }).waitFor();
    const auth = await readKv<{ deviceId: string }>(page, 'auth');
    const laptop = await td.connect();
    await laptop.send({ type: 'device.revoke', deviceId: auth!.deviceId });
    await page.getByRole('heading', { name: 'This device was removed' }).waitFor();
    await expect.poll(() => readKv(page, 'auth')).toBeUndefined();
    await shot(page, '32-revoked');
    laptop.close();
  });
});

/**
 * A switch's non-text contrast, measured in the page: its track against the colour behind it (its
 * ancestors' backgrounds), and its knob (the ::before) against the track.
 */
function switchContrast(input: HTMLElement): { track: number; knob: number } {
  type RGB = [number, number, number];
  const rgb = (c: string): RGB | undefined => {
    const m = /rgba?\(([^)]+)\)/.exec(c);
    const v = m?.[1]
      .split(/[\s,/]+/)
      .filter(Boolean)
      .map(Number);
    return v && (v[3] ?? 1) > 0 ? [v[0], v[1], v[2]] : undefined;
  };
  const lum = (c: RGB) => {
    const f = (x: number) => (x / 255 <= 0.03928 ? x / 255 / 12.92 : ((x / 255 + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a: RGB, b: RGB) => {
    const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  let behind: RGB | undefined;
  for (let a = input.parentElement; a && !behind; a = a.parentElement)
    behind = rgb(getComputedStyle(a).backgroundColor);
  const track = rgb(getComputedStyle(input).backgroundColor)!;
  const knob = rgb(getComputedStyle(input, '::before').backgroundColor)!;
  return { track: ratio(track, behind ?? [255, 255, 255]), knob: ratio(knob, track) };
}
