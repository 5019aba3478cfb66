// Keyboard, switch and screen-reader users never start over from the top of the page: after Approve
// or Deny, after saving or deleting a schedule, after saving the personal instructions and on every
// screen change, focus is somewhere that says where they are, never <body>.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { type PhoneRig, startPhoneRig } from './helpers/browser.js';

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Focus phone');
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

/** The focused element, in a few words: its tag, class and name (or BODY when focus was lost). */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const a = document.activeElement;
    if (!a || a === document.body || !a.isConnected) return 'BODY';
    const name = (a.getAttribute('aria-label') ?? a.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 40);
    return `${a.tagName.toLowerCase()}${[...a.classList].map((c) => `.${c}`).join('')} "${name}"`;
  });
}

/** Focus a control and press Enter on it, as a keyboard or a switch does. */
async function press(page: Page, name: string | RegExp): Promise<void> {
  const control = page.getByRole('button', { name, exact: typeof name === 'string' }).first();
  await control.focus();
  await page.keyboard.press('Enter');
}

it('Approve and Deny leave focus in the thread, and a new screen focuses its heading', async () => {
  const { page } = rig!.b;
  rig!.model.push(
    reply(toolUse('shell', { argv: ['echo', 'first'] })),
    reply(toolUse('shell', { argv: ['echo', 'second'] })),
    reply(text('Both steps handled.')),
  );
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Run two steps');
  await page.getByRole('button', { name: 'Send' }).click();
  const first = page.getByRole('region', { name: /Approval needed: .*first/ });
  await first.waitFor({ timeout: 15_000 });
  await press(page, 'Approve');
  await first.waitFor({ state: 'detached', timeout: 15_000 });
  // The task's state line, or the next card's Approve once it came: not the top of the page.
  await expect.poll(() => focused(page)).toMatch(/^div\.task-line |^button "Approve"/);

  const second = page.getByRole('region', { name: /Approval needed: .*second/ });
  await second.waitFor({ timeout: 15_000 });
  await press(page, 'Deny');
  await second.waitFor({ state: 'detached', timeout: 15_000 });
  await expect.poll(() => focused(page)).toMatch(/^div\.task-line |^textarea\.composer-input /);
  await page.getByText('Both steps handled.').waitFor({ timeout: 15_000 });

  // Screen changes: the new screen's heading (not <body>) has focus, as it is read first.
  await press(page, 'Back to threads');
  await expect.poll(() => focused(page)).toBe('h1 "Errand"');
  await page.getByRole('link', { name: /^Run two steps/ }).focus();
  await page.keyboard.press('Enter');
  await expect.poll(() => focused(page)).toBe('h1 "Run two steps"');
  await press(page, 'Back to threads');
  await expect.poll(() => focused(page)).toBe('h1 "Errand"');
}, 90_000);

it('saving and deleting a schedule focus its row, then the screen heading', async () => {
  const { page } = rig!.b;
  await press(page, 'Schedules');
  await expect.poll(() => focused(page)).toBe('h1 "Schedules"');
  await press(page, 'New schedule');
  await page.getByLabel('Task', { exact: true }).fill('Summarise what landed in Inbox');
  await page.getByLabel('Name (optional)').fill('Digest');
  await press(page, 'Save schedule');
  await page.locator('li.schedule', { hasText: 'Digest' }).waitFor();
  await expect.poll(() => focused(page)).toBe('h3 "Digest"');

  await press(page, 'Edit Digest');
  await page.getByRole('form', { name: 'Edit Digest' }).getByLabel('Name (optional)').fill('Inbox digest');
  await press(page, 'Save schedule');
  await expect.poll(() => focused(page)).toBe('h3 "Inbox digest"');

  await press(page, 'Delete Inbox digest');
  await expect.poll(() => focused(page)).toBe('button.danger "Confirm delete Inbox digest"');
  await page.keyboard.press('Enter');
  await expect.poll(() => page.locator('li.schedule').count()).toBe(0);
  await expect.poll(() => focused(page)).toBe('h1 "Schedules"');
}, 60_000);

it('saving the personal instructions keeps focus on Save', async () => {
  const { page } = rig!.b;
  await press(page, 'Back');
  await expect.poll(() => focused(page)).toBe('h1 "Errand"');
  await press(page, 'Settings');
  await expect.poll(() => focused(page)).toBe('h1 "Settings"');
  await page.getByRole('link', { name: 'Open Memory' }).focus();
  await page.keyboard.press('Enter');
  await expect.poll(() => focused(page)).toBe('h1 "Memory"');
  await page.getByRole('textbox', { name: 'Personal instructions' }).fill('Write reports in Markdown.');
  await press(page, 'Save instructions');
  await page.getByRole('status').filter({ hasText: 'Instructions saved.' }).waitFor();
  expect(await focused(page)).toBe('button "Saved"');
  expect(await page.getByRole('button', { name: 'Saved', exact: true }).getAttribute('aria-disabled')).toBe('true');
}, 60_000);
