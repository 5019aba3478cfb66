// What a phone walk found, on a real daemon at phone size (checked at 320×568 and 360×640, light and
// dark): a limit typed as "1e400" read "Saved." and removed the cap on the computer; with the phone's
// own network gone the banner blamed the computer; "Notifications are blocked … then come back here"
// stayed after they were allowed; a workbook's sheet tabs broke one word a line; and the approval's
// Details was escaped JSON. The computer-unreachable banner (phone online) is last: it stops the daemon.
import ExcelJS from 'exceljs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import type { Approval } from '../../shared/src/index.js';
import { lowContrast, type PhoneRig, shot, startPhoneRig, tooSmall } from './helpers/browser.js';

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Walk phone');
}, 120_000);
afterAll(async () => {
  await rig?.b.context.setOffline(false).catch(() => undefined);
  await rig?.close();
});

const SIZES = [
  { width: 320, height: 568 },
  { width: 360, height: 640 },
] as const;

/** At both phone sizes, light and dark: nothing scrolls sideways, every target is a finger's size, text is readable. */
async function layoutHolds(page: Page, what: string): Promise<void> {
  for (const size of SIZES)
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.setViewportSize(size);
      await page.emulateMedia({ colorScheme });
      const where = `${what} ${size.width} ${colorScheme}`;
      const sideways = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
      expect({ where, sideways, small: await tooSmall(page), low: await lowContrast(page) }).toEqual({
        where,
        sideways: 0,
        small: [],
        low: [],
      });
      await shot(page, `walk-s27-${what}-${size.width}-${colorScheme}`);
    }
  await page.setViewportSize({ width: 360, height: 640 });
  await page.emulateMedia({ colorScheme: 'light' });
}

describe('a limit typed as something other than a plain amount', () => {
  const NOT_AMOUNTS = ['1e400', 'Infinity', '0x10', '-1', '1e3'];

  it('is refused with what to type, and the cap on the computer stays as it was', async () => {
    const { page } = rig!.b;
    const { td } = rig!;
    const spending = () => td.daemon.ctx.status().spend;
    const open = async () => {
      // Opened afresh each time: an error left from the try before cannot stand in for this one's.
      await page.goto(`${td.url}/#`);
      await page.goto(`${td.url}/#settings`);
      const card = page.getByRole('region', { name: 'Spending' });
      await card.waitFor();
      return card;
    };
    let card = await open();
    await card.getByLabel('Daily cap ($, empty for none)').fill('10');
    await card.getByRole('button', { name: 'Save spending limits' }).click();
    await card.getByText('Saved.').waitFor();
    await expect.poll(() => spending()?.dailyCapUsd).toBe(10);
    const perTask = spending()?.perTaskUsd;
    expect(perTask).toBe(5);

    for (const typed of NOT_AMOUNTS) {
      card = await open();
      const daily = card.getByLabel('Daily cap ($, empty for none)');
      await expect.poll(() => daily.inputValue()).toBe('10');
      await daily.fill(typed);
      await card.getByRole('button', { name: 'Save spending limits' }).click();
      await card
        .getByRole('alert')
        .getByText(
          'The daily cap is an amount in dollars above zero, in digits such as 5 or 12.50 (leave it empty for none).',
        )
        .waitFor();
      expect({ typed, saved: await card.getByText('Saved.').count() }).toEqual({ typed, saved: 0 });
      expect({ typed, spend: spending() }).toMatchObject({ typed, spend: { dailyCapUsd: 10, perTaskUsd: perTask } });
      expect(td.daemon.ctx.config().spend.dailyUsd).toBe(10);
    }
    await layoutHolds(page, 'spend-refused');

    // The per-task limit: "1e400" would have been sent as null, which removes the $5 guard.
    card = await open();
    await card.getByLabel('Per task: pause and ask at ($, empty for none)').fill('1e400');
    await card.getByRole('button', { name: 'Save spending limits' }).click();
    await card
      .getByRole('alert')
      .getByText(/^The per-task limit is an amount in dollars above zero/)
      .waitFor();
    expect(td.daemon.ctx.config().agent.maxCostUsd).toBe(5);
    expect(spending()).toMatchObject({ dailyCapUsd: 10, perTaskUsd: 5 });
  });

  it("is refused as a schedule's limit per run, which stays as it was", async () => {
    const { page } = rig!.b;
    const { td } = rig!;
    const schedules = td.daemon.ctx.store.schedules;
    await page.goto(`${td.url}/#schedules`);
    await page.getByRole('button', { name: 'New schedule' }).click();
    const form = page.getByRole('form', { name: 'New schedule' });
    await form.waitFor();
    await form.getByLabel('Task', { exact: true }).fill('Tidy the downloads folder');
    await form.getByLabel('Name (optional)').fill('Tidy');
    await form.getByLabel('Spending limit per run ($, empty for the per-task limit)').fill('0.5');
    await form.getByRole('button', { name: 'Save schedule' }).click();
    await expect.poll(() => schedules.list().length).toBe(1);
    const made = schedules.list()[0];
    expect(made.maxCostUsd).toBe(0.5);

    const limitWords =
      'The limit per run is an amount in dollars above zero, in digits such as 5 or 12.50 (leave it empty for the per-task limit).';
    for (const typed of NOT_AMOUNTS) {
      await page.goto(`${td.url}/#`);
      await page.goto(`${td.url}/#schedules`);
      await page.getByRole('button', { name: 'Edit Tidy' }).click();
      const edit = page.getByRole('form', { name: 'Edit Tidy' });
      await edit.waitFor();
      await edit.getByLabel('Spending limit per run ($, empty for the per-task limit)').fill(typed);
      await edit.getByRole('button', { name: 'Save schedule' }).click();
      await edit.getByText(limitWords).waitFor();
      // Still open (nothing was saved), and the schedule keeps its own limit.
      expect(await edit.count()).toBe(1);
      expect({ typed, limit: schedules.get(made.id)?.maxCostUsd }).toEqual({ typed, limit: 0.5 });
    }
    await layoutHolds(page, 'schedule-limit-refused');
  });
});

describe("the approval's Details", () => {
  it('lists the exact action in labelled lines, each argument whole between quotes, with no JSON escaping', async () => {
    const { page } = rig!.b;
    const { model, td } = rig!;
    const argv = ['echo', 'print("a  b")', 'two words', '', 'zero\u200Bwidth'];
    model.push(reply(toolUse('shell', { argv })), reply(text('Not run, then.')));
    await page.goto(`${td.url}/#`);
    await page.getByRole('button', { name: 'New task' }).click();
    await page.getByRole('textbox', { name: 'Message' }).fill('Echo something tricky');
    await page.getByRole('button', { name: 'Send' }).click();
    const card = page.getByRole('region', { name: /Approval needed/ });
    await card.waitFor({ timeout: 20_000 });
    await card.getByText('Details').click();
    const action = card.locator('.approval-action');
    await action.waitFor();

    // Each argument on its own line, exactly (two spaces stay two, the empty one is there), hidden ones marked.
    const args = card.locator('.approval-action li', { hasText: /^Arguments:/ }).locator('ol > li');
    expect(await args.allInnerTexts()).toEqual([
      '"echo"',
      '"print("a  b")"',
      '"two words"',
      '""',
      '"zero⟨U+200B⟩width"',
    ]);
    const shown = await action.innerText();
    expect(shown).not.toContain('\\"');
    expect(shown).not.toMatch(/^\s*[{[]/);
    const threadId = new URLSearchParams(new URL(page.url()).hash.slice(1)).get('thread')!;
    const c = await td.connect();
    const { approvals } = await c.send<{ approvals: Approval[] }>({ type: 'thread.get', threadId });
    c.close();
    const approval = approvals.find((a) => a.state === 'pending')!;
    const program = approval.action.program as string;
    const cwd = approval.action.cwd as string;
    const sandbox = approval.action.sandbox as string;
    for (const line of [`Program: "${program}"`, `Folder: "${cwd}"`, `Sandbox: "${sandbox}"`])
      expect(shown).toContain(line);
    await layoutHolds(page, 'approval-details');

    await page.getByRole('button', { name: 'Deny' }).click();
    await page.getByText('Not run, then.').waitFor({ timeout: 20_000 });
  });
});

describe("a workbook's sheet tabs", () => {
  it('stay on one line, a long name cut short with its whole name still there', async () => {
    const { page } = rig!.b;
    const { td } = rig!;
    const names = ['Quarterly sales by region', 'Notes', 'Third sheet with long name', 'Fourth'];
    const wb = new ExcelJS.Workbook();
    for (const name of names) wb.addWorksheet(name).addRow([name, 1]);
    const target = `${td.home}/workspace/sales.xlsx`;
    await wb.xlsx.writeFile(target);
    const threadId = new URLSearchParams(new URL(page.url()).hash.slice(1)).get('thread')!;
    const c = await td.connect();
    const { tasks } = await c.send<{ tasks: { id: string }[] }>({ type: 'thread.get', threadId });
    c.close();
    await page.goto(`${td.url}/#${new URLSearchParams({ thread: threadId, task: tasks[0].id, file: target })}`);
    const tabs = page.getByRole('tab');
    await expect.poll(() => tabs.count()).toBe(names.length);
    for (const size of SIZES) {
      await page.setViewportSize(size);
      const boxes = await tabs.evaluateAll((els) =>
        els.map((e) => ({ height: e.getBoundingClientRect().height, title: e.getAttribute('title') })),
      );
      const lineHeight = await tabs.first().evaluate((e) => parseFloat(getComputedStyle(e).lineHeight) || 20);
      for (const [i, b] of boxes.entries()) {
        // One line of text in a finger-sized tab (they were 131 px tall, a word a line).
        expect({ tab: names[i], tall: b.height <= 44 + lineHeight }).toEqual({ tab: names[i], tall: true });
        expect(b.title).toBe(names[i]);
      }
      // The whole name is the tab's name too.
      await page.getByRole('tab', { name: `Sheet ${names[0]}` }).waitFor();
    }
    await layoutHolds(page, 'sheet-tabs');
  });
});

describe('notifications allowed after they were blocked', () => {
  /** The browser's site setting for notifications, as the person changes it (kept while the session is open). */
  async function siteSetting(page: Page) {
    const cdp = await page.context().newCDPSession(page);
    return {
      set: (setting: 'granted' | 'denied') =>
        cdp.send('Browser.setPermission', { permission: { name: 'notifications' }, setting, origin: rig!.td.url }),
      done: () => cdp.detach(),
    };
  }

  it('the switch comes back as soon as the permission changes, without leaving the screen', async () => {
    const { page } = rig!.b;
    const setting = await siteSetting(page);
    try {
      await setting.set('denied');
      await page.goto(`${rig!.td.url}/#settings`);
      await page.getByText('Notifications are blocked for Errand.').waitFor();
      expect(await page.getByRole('switch', { name: 'Notifications' }).count()).toBe(0);
      await layoutHolds(page, 'notifications-blocked');
      await setting.set('granted');
      await page.getByRole('switch', { name: 'Notifications' }).waitFor();
      expect(await page.getByText('Notifications are blocked for Errand.').count()).toBe(0);
    } finally {
      await setting.done();
    }
  });

  it('where the browser tells no permission changes, coming back to the app reads it again', async () => {
    const { context } = rig!.b;
    const page = await context.newPage();
    const setting = await siteSetting(page);
    try {
      // A browser with no notifications permission to query (older Safari).
      await page.addInitScript(() => {
        navigator.permissions.query = () => Promise.reject(new TypeError('not supported'));
      });
      await setting.set('denied');
      await page.goto(`${rig!.td.url}/#settings`);
      await page.getByText('Notifications are blocked for Errand.').waitFor();
      // Connected, with the devices listed: the screen has had the renders its loading brings.
      await page.getByText('Online', { exact: true }).waitFor();
      await page.getByText('(this device)').waitFor();
      await setting.set('granted');
      expect(await page.evaluate(() => Notification.permission)).toBe('granted');
      expect(await page.getByRole('switch', { name: 'Notifications' }).count()).toBe(0);
      // The person went to the phone's settings and comes back: the app is hidden, then shown again.
      await page.evaluate(() => {
        const set = (v: DocumentVisibilityState) =>
          Object.defineProperty(document, 'visibilityState', { value: v, configurable: true });
        set('hidden');
        document.dispatchEvent(new Event('visibilitychange'));
        set('visible');
        document.dispatchEvent(new Event('visibilitychange'));
      });
      await page.getByRole('switch', { name: 'Notifications' }).waitFor();
      expect(await page.getByText('Notifications are blocked for Errand.').count()).toBe(0);
    } finally {
      await setting.done();
      await page.close();
    }
  });
});

describe('the banner when the computer cannot be reached', () => {
  it('with the phone offline, says so, and Why? is about the phone’s connection', async () => {
    const { page, context } = rig!.b;
    await page.goto(`${rig!.td.url}/#`);
    await page.getByRole('button', { name: 'New task' }).waitFor();
    await context.setOffline(true);
    const banner = page.locator('.banner-offline');
    await banner.getByText("Phone offline. Can't reach your computer — last seen").waitFor({ timeout: 15_000 });
    // Short enough to leave the screen to the conversation.
    expect((await banner.boundingBox())!.height).toBeLessThan(100);
    await page.getByRole('button', { name: "Why can't it reach your computer?" }).click();
    const why = await page.locator('#offline-why').innerText();
    expect(why).toMatch(
      /^This phone has no network connection: turn on Wi-Fi or mobile data, or turn off flight mode\./,
    );
    expect(why).toContain('Messages you send wait here and go to your computer once the phone is back online.');
    await layoutHolds(page, 'phone-offline');
    await context.setOffline(false);
    await banner.waitFor({ state: 'detached', timeout: 20_000 });
  });

  it('with the phone online, keeps the checklist for the computer', async () => {
    const { page } = rig!.b;
    // The computer goes away; the phone's network is fine.
    await rig!.td.stop();
    const banner = page.locator('.banner-offline');
    await banner.getByText("Can't reach your computer — last seen").waitFor({ timeout: 20_000 });
    expect(await banner.getByText('Phone offline').count()).toBe(0);
    await page.getByRole('button', { name: "Why can't it reach your computer?" }).click();
    const why = await page.locator('#offline-why').innerText();
    expect(why).toMatch(/^Last seen .*Check that your computer is on and awake and that Errand is running/);
    expect(why).not.toContain('mobile data');
  });
});
