// The diff view: a file the agent edited shows, on the phone, the lines it removed and added (from
// the change journal), reached from the result card and from the changed-file rows.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { homePaths } from '../../daemon/src/config/paths.js';
import { reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { type PhoneRig, shot, startPhoneRig, unnamedControls } from './helpers/browser.js';

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Diff phone');
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

it('an edited file shows its removed and added lines, with line numbers', async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  const lines = Array.from({ length: 30 }, (_, i) => `Step ${i + 1}: as planned`);
  fs.writeFileSync(path.join(homePaths(td.home).workspace, 'plan.md'), `${lines.join('\n')}\n`);
  model.push(
    reply(
      toolUse('fs_edit', {
        path: 'plan.md',
        old_text: 'Step 12: as planned\n',
        new_text: 'Step 12: moved to Friday\nStep 12b: tell the team\n',
      }),
    ),
    reply(text('I moved step 12 in plan.md.')),
  );
  await page.goto(`${td.url}/#new`);
  await page.getByRole('textbox', { name: 'Message' }).fill('Move step 12 to Friday');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('.task-group .chip-done').waitFor({ timeout: 20_000 });
  const threadUrl = page.url();

  await page.getByRole('link', { name: 'View changes to plan.md' }).click();
  const diff = page.getByRole('main', { name: 'Changes to plan.md' });
  await diff.locator('.dl-add').first().waitFor({ timeout: 10_000 });
  expect(await diff.locator('.diff-summary').innerText()).toBe('Changed: 2 lines added, 1 removed.');
  expect(await diff.locator('.dl-del').allInnerTexts()).toEqual([expect.stringContaining('Step 12: as planned')]);
  expect(await diff.locator('.dl-add').allInnerTexts()).toEqual([
    expect.stringContaining('Step 12: moved to Friday'),
    expect.stringContaining('Step 12b: tell the team'),
  ]);
  // Three lines of context on each side, numbered as in the file.
  expect(await diff.locator('.dl-same').count()).toBe(6);
  expect(await diff.locator('.dl-del .dl-no').innerText()).toBe('12');
  expect(await diff.locator('.dl-same .dl-no').first().innerText()).toBe('9');
  // Screen readers hear which lines were removed and added, not only colours.
  expect(await diff.locator('del').first().innerText()).toContain('Removed:');
  expect(await diff.locator('ins').first().innerText()).toContain('Added:');
  // Removed and added lines differ in colour from the page and from each other.
  const bg = (sel: string) =>
    diff
      .locator(sel)
      .first()
      .evaluate((el) => getComputedStyle(el).backgroundColor);
  const [add, del, same] = [await bg('.dl-add'), await bg('.dl-del'), await bg('.dl-same')];
  expect(new Set([add, del, same]).size).toBe(3);
  expect(await unnamedControls(page)).toEqual([]);
  await shot(page, 'diff-view');

  // From the changed-file rows too.
  await page.goto(threadUrl);
  await page.getByRole('button', { name: 'Changed files' }).click();
  await page
    .locator('.changes')
    .getByRole('link', { name: /^View changes to .*plan\.md$/ })
    .click();
  await diff.locator('.dl-del').waitFor({ timeout: 10_000 });
}, 60_000);

it('a file the agent created shows as all added; after undo it says the changes were undone', async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  model.push(
    reply(toolUse('fs_write', { path: 'todo.txt', content: 'buy milk\ncall Sam\n' })),
    reply(text('Wrote it.')),
  );
  await page.goto(`${td.url}/#new`);
  await page.getByRole('textbox', { name: 'Message' }).fill('Write my todo list');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('.task-group .chip-done').waitFor({ timeout: 20_000 });
  const threadUrl = page.url();
  const link = page.getByRole('link', { name: 'View changes to todo.txt' });
  const diffHref = await link.getAttribute('href');
  expect(diffHref).toMatch(/^#thread=.+&task=.+&diff=.+todo\.txt$/);
  await link.click();
  const diff = page.getByRole('main', { name: 'Changes to todo.txt' });
  await diff.locator('.diff-summary').waitFor({ timeout: 10_000 });
  expect(await diff.locator('.diff-summary').innerText()).toBe('New file: 2 lines added.');
  expect(await diff.locator('.dl-del').count()).toBe(0);
  expect(await diff.locator('.dl-add').count()).toBe(2);

  await page.goto(threadUrl);
  await page.getByRole('button', { name: 'Undo changes' }).click();
  await page.getByRole('button', { name: 'Confirm undo changes' }).click();
  await page.getByText("All of this task's changes were undone.").waitFor({ timeout: 10_000 });
  // An undone file offers no diff link; its diff address says the changes were undone.
  expect(await page.getByRole('link', { name: 'View changes to todo.txt' }).count()).toBe(0);
  await page.goto(`${td.url}/${diffHref}`);
  await diff.getByText("The task's changes to this file were undone.").waitFor({ timeout: 10_000 });
}, 60_000);
