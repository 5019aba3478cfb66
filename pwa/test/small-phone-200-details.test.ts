// A 320×568 phone at 200 % text, light and dark: a placeholder is as readable as other text (the UA's
// grey was 3.5:1 on the dark field); "Latest ↓" never covers a card waiting for the person; a step
// that a cancel left unrun says so once, without "not allowed" or the denied mark; and the thread list
// shows enough of each title to tell "Clean the desktop" from "Clean the downloads folder".
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { lowContrast, type PhoneRig, shot, startPhoneRig } from './helpers/browser.js';

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Small phone');
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

const textSize = (page: Page, pct: number) =>
  page.evaluate((p) => {
    document.documentElement.style.fontSize = p === 100 ? '' : `${p}%`;
  }, pct);

/** Two frames: what a scroll event changed is rendered. */
const rendered = (page: Page) =>
  page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

async function newTask(page: Page, message: string): Promise<void> {
  await page.goto(`${rig!.td.url}/#new`);
  await page.getByRole('textbox', { name: 'Message' }).fill(message);
  await page.getByRole('button', { name: 'Send' }).click();
}

it('placeholders are 4.5:1 or more in light and dark', async () => {
  const { page } = rig!.b;
  rig!.model.push(reply(text('Here is the summary.')));
  await newTask(page, 'Clean the desktop');
  await page.getByText('Here is the summary.').waitFor({ timeout: 15_000 });
  await page.getByPlaceholder('Follow up…').waitFor();
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    expect({ scheme, low: await lowContrast(page) }).toEqual({ scheme, low: [] });
  }
  await page.goto(`${rig!.td.url}/#new`);
  await page.getByPlaceholder(/^e\.g\. Summarise/).waitFor();
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    expect({ scheme, low: await lowContrast(page) }).toEqual({ scheme, low: [] });
  }
  await page.emulateMedia({ colorScheme: null });
});

it('"Latest ↓" stays off an approval card in view, and a step the cancel left unrun is not called denied', async () => {
  const { page } = rig!.b;
  const { model } = rig!;
  model.push(reply(text(Array.from({ length: 40 }, (_, i) => `Line ${i + 1} of the list.`).join('\n\n'))));
  await newTask(page, 'Clean the downloads folder');
  await page.getByText('Line 40 of the list.').waitFor({ timeout: 15_000 });
  await page.setViewportSize({ width: 320, height: 568 });
  await textSize(page, 200);
  try {
    model.push(reply(toolUse('shell', { argv: ['rm', '-r', 'downloads/old-installers', 'downloads/tmp'] })));
    await page.getByRole('textbox', { name: 'Message' }).fill('Now remove the old ones');
    await page.getByRole('button', { name: 'Send' }).click();
    const card = page.locator('.approval-pending');
    await card.getByRole('button', { name: 'Approve' }).waitFor({ timeout: 15_000 });
    const log = page.getByRole('log', { name: 'Conversation' });
    // The person scrolls up a little to read the command: the card stays in view.
    const before = await log.evaluate((el) => el.scrollTop);
    await log.hover();
    await page.mouse.wheel(0, -120);
    await expect.poll(() => log.evaluate((el) => el.scrollTop)).toBeLessThan(before);
    await rendered(page);
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const covered = await page.evaluate(() => {
        const pill = document.querySelector('.jump-latest')?.getBoundingClientRect();
        const c = document.querySelector('.approval-pending')!.getBoundingClientRect();
        return !!pill && pill.bottom > c.top && pill.top < c.bottom && pill.right > c.left && pill.left < c.right;
      });
      expect({ scheme, covered }).toEqual({ scheme, covered: false });
      await shot(page, `small-phone-approval-scrolled-${scheme}`);
    }
    await page.emulateMedia({ colorScheme: null });
    // Scrolled up past the card, the pill is back (it still takes the person to the newest).
    await log.evaluate((el) => el.scrollTo({ top: 0 }));
    await page.getByRole('button', { name: 'Jump to latest ↓' }).waitFor();

    // Stopped while the approval waits: the step was not run, and nobody denied it.
    await page.getByRole('button', { name: 'Stop the task' }).click();
    const step = page.locator('.tool', { hasText: 'not run, the task was cancelled' });
    await step.waitFor({ timeout: 15_000 });
    const head = step.locator('.tool-head');
    expect(await head.getAttribute('aria-label')).toMatch(/: not run, the task was cancelled\. Show details$/);
    expect(await step.locator('.tool-mark').innerText()).toBe('–');
    expect(await step.getAttribute('class')).not.toContain('tool-denied');
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await step.scrollIntoViewIfNeeded();
      expect({ scheme, low: await lowContrast(page) }).toEqual({ scheme, low: [] });
    }
    await page.emulateMedia({ colorScheme: null });
  } finally {
    await textSize(page, 100);
    await page.setViewportSize({ width: 360, height: 640 });
  }
}, 90_000);

it('at 200 % text on 320 px, list titles take two lines and tell similar threads apart', async () => {
  const { page } = rig!.b;
  await page.goto(`${rig!.td.url}/#`);
  await page.getByRole('button', { name: 'New task' }).waitFor();
  await page.setViewportSize({ width: 320, height: 568 });
  await textSize(page, 200);
  try {
    /** The words of a row's title that are on screen (not cut by its line clamp or an ellipsis). */
    const shownWords = (title: string) =>
      page
        .locator('.thread-row .row-title', { hasText: title })
        .first()
        .evaluate((el) => {
          const box = el.getBoundingClientRect();
          const node = el.firstChild as Text;
          return [...node.data.matchAll(/\S+/g)]
            .filter((m) => {
              const range = document.createRange();
              range.setStart(node, m.index);
              range.setEnd(node, m.index + m[0].length);
              const r = range.getBoundingClientRect();
              return r.right <= box.right + 0.5 && r.bottom <= box.bottom + 0.5;
            })
            .map((m) => m[0]);
        });
    const desktop = await shownWords('Clean the desktop');
    const downloads = await shownWords('Clean the downloads folder');
    expect(desktop).toEqual(['Clean', 'the', 'desktop']);
    expect(downloads.slice(0, 3)).toEqual(['Clean', 'the', 'downloads']);
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      expect(await page.evaluate(() => document.documentElement.scrollWidth - innerWidth)).toBeLessThanOrEqual(0);
      await shot(page, `small-phone-list-200-${scheme}`);
    }
    await page.emulateMedia({ colorScheme: null });
  } finally {
    await textSize(page, 100);
    await page.setViewportSize({ width: 360, height: 640 });
  }
});
