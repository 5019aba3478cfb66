// The phone's keyboard opening (interactive-widget=resizes-content: the page shrinks by ~330 px) or the
// message box growing as the person types keeps the newest content in view: the question being
// answered, a failed task's Retry, an approval's "Allow for this task". A view the person scrolled up,
// or one the app placed at a tall approval's top, keeps its place. Checked at 320 and 360 px wide.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { lowContrast, type PhoneRig, shot, startPhoneRig, tooSmall } from './helpers/browser.js';

/** What an on-screen keyboard takes from a phone's height. */
const KEYBOARD = 330;
const PHONES = [
  { width: 320, height: 640 },
  { width: 360, height: 780 },
] as const;

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Keyboard phone');
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

const log = (page: Page) => page.getByRole('log', { name: 'Conversation' });
/** How far the conversation is from its newest content. */
const fromBottom = (page: Page) =>
  log(page).evaluate((el) => Math.round(el.scrollHeight - el.scrollTop - el.clientHeight));

/** Where an element is against the conversation's visible part (the message box is right under it). */
const placement = (page: Page, selector: string) =>
  page.evaluate((sel) => {
    const view = document.querySelector('.conversation')!.getBoundingClientRect();
    const found = [...document.querySelectorAll(sel)].at(-1)!.getBoundingClientRect();
    const composer = document.querySelector('form.composer')!.getBoundingClientRect();
    return {
      inView: found.top >= view.top - 1 && found.bottom <= view.bottom + 1,
      aboveComposer: found.bottom <= composer.top + 1,
      topInView: found.top >= view.top - 1 && found.top < view.bottom,
    };
  }, selector);

/** A rendering update has run since now (ResizeObserver callbacks come in it): nothing more can move. */
const rendered = (page: Page) =>
  page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

async function send(page: Page, words: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Message' }).fill(words);
  await page.getByRole('button', { name: 'Send' }).click();
}

it('the question being answered stays in view as the keyboard opens and the answer grows', async () => {
  const { page } = rig!.b;
  const { model } = rig!;
  await page.setViewportSize(PHONES[1]);
  model.push(reply(text('First answer. '.repeat(80))));
  await page.getByRole('button', { name: 'New task' }).click();
  await send(page, 'Write a long thing');
  await page.locator('.task-footer .chip-done').waitFor({ timeout: 20_000 });
  model.push(
    reply(toolUse('ask_user', { question: 'Which quarter should I use, Q2 or Q3? The last line matters.' })),
    reply(text('Using Q3 as you said.')),
  );
  await send(page, 'Make the chart');
  await page.getByText('The last line matters.').waitFor({ timeout: 20_000 });
  await expect.poll(() => fromBottom(page)).toBeLessThanOrEqual(1);

  const box = page.getByRole('textbox', { name: 'Reply to the question' });
  await box.click();
  for (const phone of PHONES) {
    await page.setViewportSize(phone);
    await expect.poll(() => fromBottom(page)).toBeLessThanOrEqual(1);
    // The keyboard opens: the page is that much shorter.
    await page.setViewportSize({ width: phone.width, height: phone.height - KEYBOARD });
    await expect.poll(() => fromBottom(page), { message: `keyboard open at ${phone.width}` }).toBeLessThanOrEqual(1);
    expect(await placement(page, '.card.question')).toMatchObject({ aboveComposer: true });
  }

  // Five lines typed: the box grows a line at a time (field-sizing: content), the question stays above it.
  const oneLine = (await box.boundingBox())!.height;
  await box.pressSequentially('Q3 please, and also\nuse the figures from\nthe second sheet\nand round to\nthousands');
  await expect.poll(async () => (await box.boundingBox())!.height).toBeGreaterThan(oneLine * 2);
  await expect.poll(() => fromBottom(page), { message: 'after typing' }).toBeLessThanOrEqual(1);
  expect(await placement(page, '.card.question')).toMatchObject({ aboveComposer: true });
  await shot(page, 'keyboard-question-typed');

  // The keyboard closes and opens again at each phone size, light and dark: the newest stays in view,
  // nothing scrolls sideways, every target is a finger's size, text is readable.
  for (const phone of PHONES)
    for (const colorScheme of ['light', 'dark'] as const) {
      const where = `${phone.width} ${colorScheme}`;
      await page.emulateMedia({ colorScheme });
      await page.setViewportSize(phone);
      await page.setViewportSize({ width: phone.width, height: phone.height - KEYBOARD });
      await expect.poll(() => fromBottom(page), { message: where }).toBeLessThanOrEqual(1);
      const sideways = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
      expect({ where, sideways, small: await tooSmall(page), low: await lowContrast(page) }).toEqual({
        where,
        sideways: 0,
        small: [],
        low: [],
      });
      await shot(page, `keyboard-question-${phone.width}-${colorScheme}`);
    }
  await page.emulateMedia({ colorScheme: null });
  await page.getByRole('button', { name: 'Reply', exact: true }).click();
  await page.getByText('Using Q3 as you said.').waitFor({ timeout: 20_000 });
  await page.setViewportSize(PHONES[1]);
});

it("a failed task's Retry and an approval's buttons stay in view when the keyboard opens", async () => {
  const { page } = rig!.b;
  const { model } = rig!;
  await page.setViewportSize(PHONES[1]);
  model.push(reply(text('The table, first try. '.repeat(60))));
  await page.goto(`${rig!.td.url}/#new`);
  await send(page, 'Make the table');
  await page.locator('.task-footer .chip-done').waitFor({ timeout: 20_000 });
  model.push({ kind: 'status', status: 400, errorType: 'invalid_request_error', message: 'scripted refusal' });
  await send(page, 'Now the table');
  const retry = page.locator('.task-group').last().getByRole('button', { name: 'Retry task' });
  await retry.waitFor({ timeout: 20_000 });
  await expect.poll(() => fromBottom(page)).toBeLessThanOrEqual(1);
  await page.getByRole('textbox', { name: 'Message' }).click();
  await page.setViewportSize({ width: 360, height: 780 - KEYBOARD });
  await expect.poll(() => fromBottom(page)).toBeLessThanOrEqual(1);
  expect(await placement(page, 'button[aria-label="Retry task"]')).toMatchObject({
    inView: true,
  });

  await page.setViewportSize(PHONES[1]);
  model.push(reply(toolUse('shell', { argv: ['ls', '-la', 'reports'] })), reply(text('Listed.')));
  await send(page, 'List the reports');
  const allow = page.getByRole('button', { name: 'Allow for this task' });
  await allow.waitFor({ timeout: 20_000 });
  await expect.poll(() => fromBottom(page)).toBeLessThanOrEqual(1);
  await page.getByRole('textbox', { name: 'Message' }).click();
  await page.setViewportSize({ width: 360, height: 780 - KEYBOARD });
  await expect.poll(() => fromBottom(page)).toBeLessThanOrEqual(1);
  expect(await placement(page, '.approval-pending .btn-row')).toMatchObject({ inView: true });
  await shot(page, 'keyboard-approval-buttons');
  await page.setViewportSize(PHONES[1]);
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.getByText('Listed.').waitFor({ timeout: 20_000 });
});

it("a view scrolled up, or at a tall approval's top, keeps its place when the keyboard opens", async () => {
  const { page } = rig!.b;
  const { model } = rig!;
  await page.setViewportSize(PHONES[1]);
  model.push(reply(text('A long answer to read. '.repeat(120))));
  await page.goto(`${rig!.td.url}/#new`);
  await send(page, 'Explain it at length');
  await page.locator('.task-footer .chip-done').waitFor({ timeout: 20_000 });
  // Scrolled up to read: the keyboard opening does not take the person away from what they read.
  await log(page).evaluate((el) => {
    el.scrollTop = 200;
  });
  await page.getByRole('button', { name: 'Jump to latest ↓' }).waitFor();
  // What the person reads: the element at the top of the view (the browser's scroll anchoring may
  // move the view a little as it shrinks, but not away from it).
  await page.evaluate(() => {
    const view = document.querySelector('.conversation')!.getBoundingClientRect();
    document.elementFromPoint(view.left + view.width / 2, view.top + 20)!.setAttribute('data-read-here', '');
  });
  await page.getByRole('textbox', { name: 'Message' }).click();
  await page.setViewportSize({ width: 360, height: 780 - KEYBOARD });
  await rendered(page);
  const reading = await page.evaluate(() => {
    const view = document.querySelector('.conversation')!.getBoundingClientRect();
    const r = document.querySelector('[data-read-here]')!.getBoundingClientRect();
    return r.bottom > view.top + 20 && r.top < view.bottom;
  });
  expect({ reading, newest: (await fromBottom(page)) <= 80 }).toEqual({ reading: true, newest: false });
  await page.getByRole('button', { name: 'Jump to latest ↓' }).waitFor();

  // A new task whose approval is taller than the screen: the app shows it from its top (its expiry and
  // command), and the keyboard opening keeps that top in view.
  await page.setViewportSize(PHONES[1]);
  const script = Array.from({ length: 40 }, (_, i) => `echo "step ${i + 1} of the clean-up"`).join('\n');
  model.push(reply(toolUse('shell', { argv: ['sh', '-c', script] })), reply(text('Cleaned.')));
  await page.goto(`${rig!.td.url}/#new`);
  await send(page, 'Clean up');
  await page.locator('.approval-pending').waitFor({ timeout: 20_000 });
  await expect.poll(() => placement(page, '.approval-pending .approval-head')).toMatchObject({ topInView: true });
  // Really taller than the screen: far from the bottom, not "near the newest".
  expect(await fromBottom(page)).toBeGreaterThan(80);
  await page.getByRole('textbox', { name: 'Message' }).click();
  await page.setViewportSize({ width: 360, height: 780 - KEYBOARD });
  await rendered(page);
  expect(await placement(page, '.approval-pending .approval-head')).toMatchObject({ topInView: true });
  await shot(page, 'keyboard-tall-approval-top');
  await page.setViewportSize(PHONES[1]);
  await page.getByRole('button', { name: 'Deny' }).click();
  await page.locator('.task-footer').last().waitFor();
});
