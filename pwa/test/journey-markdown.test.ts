// An answer in Markdown reads on a phone as it was written: nested lists nest, table columns keep their
// alignment, dates and amounts never break inside a cell, and the thread list shows plain words.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text } from '../../daemon/test/helpers/model-server.js';
import { type PhoneRig, shot, startPhoneRig } from './helpers/browser.js';

const ANSWER = [
  '## **Plan** for the week',
  '',
  '1. Prepare',
  '   - book the room',
  '   - send the invite',
  '2. Hold the meeting',
  '',
  '| Item | Date | Amount |',
  '|:--|:-:|--:|',
  '| Room | 2026-12-05 | 1 234,50 € |',
  '| Catering for the whole team | 2026-12-06 | 98.10 |',
].join('\n');

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Markdown phone');
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

it('renders nested lists, aligned columns and unbroken numbers; the list preview is plain words', async () => {
  const { page } = rig!.b;
  const { model } = rig!;
  model.push(reply(text(ANSWER)));
  await page.setViewportSize({ width: 320, height: 640 });
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Plan the week');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('.task-group .chip-done').waitFor({ timeout: 20_000 });

  // The sub-items are a list inside the first item, not siblings of it.
  const nested = page.locator('.md ol > li:first-child > ul > li');
  expect(await nested.allInnerTexts()).toEqual(['book the room', 'send the invite']);
  expect(await page.locator('.md ol > li').count()).toBe(2);

  // Columns align as the separator row says; numbers and dates stay on one line even at 320 px.
  const cell = (row: number, col: number) => page.locator(`.md table tbody tr:nth-child(${row}) td:nth-child(${col})`);
  const align = (row: number, col: number) => cell(row, col).evaluate((el) => getComputedStyle(el).textAlign);
  expect(await align(1, 1)).toBe('left');
  expect(await align(1, 2)).toBe('center');
  expect(await align(1, 3)).toBe('right');
  for (const [row, col] of [
    [1, 2],
    [1, 3],
    [2, 2],
    [2, 3],
  ]) {
    const lines = await cell(row, col).evaluate((el) => {
      const r = document.createRange();
      r.selectNodeContents(el);
      return new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size;
    });
    expect(lines).toBe(1);
  }
  await shot(page, 'journey-markdown-320');

  // The thread list preview has no Markdown marks.
  await page.getByRole('button', { name: 'Back to threads' }).click();
  const row = page.locator('.thread-row').filter({ hasText: 'Plan the week' }).locator('.row-line');
  await expect.poll(() => row.innerText(), { timeout: 10_000 }).toBe('Plan for the week');
  await shot(page, 'journey-markdown-list');
});

it('a code block has a Copy button that puts the exact code on the clipboard', async () => {
  const { page, context } = rig!.b;
  const { model, td } = rig!;
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(td.url).origin });
  const code = 'grep -c "<b>" report.md\necho done';
  model.push(reply(text(`Run this:\n\n\`\`\`sh\n${code}\n\`\`\``)));
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('How do I count them');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('.task-group .chip-done').waitFor({ timeout: 20_000 });
  const copy = page.getByRole('button', { name: 'Copy code' });
  const box = await copy.boundingBox();
  expect(box!.width).toBeGreaterThanOrEqual(44);
  expect(box!.height).toBeGreaterThanOrEqual(44);
  // It sits in the block's corner, not on a line of its own under it.
  const pre = (await page.locator('.md-code-wrap pre').boundingBox())!;
  expect(box!.y).toBeLessThan(pre.y + pre.height / 2);
  expect(box!.x + box!.width).toBeLessThanOrEqual(pre.x + pre.width + 1);
  await copy.click();
  await expect.poll(() => copy.innerText()).toBe('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(code);
  await shot(page, 'journey-code-copy');
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot(page, 'journey-code-copy-dark');
  await page.emulateMedia({ colorScheme: null });
});
