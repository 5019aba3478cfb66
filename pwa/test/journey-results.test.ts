// Results count what a person thinks of as results: files, not the folders made on the way to them.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { lowContrast, type PhoneRig, shot, startPhoneRig } from './helpers/browser.js';

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Results phone');
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

it('a file written into a new folder counts as one changed file, and undo still takes both away', async () => {
  const { page } = rig!.b;
  const { model } = rig!;
  model.push(
    reply(
      toolUse('fs_write', { path: 'reports/q3.md', content: '# Q3\n' }),
      toolUse('fs_write', { path: 'reports/q3.md', content: '# Q3 final\n' }),
    ),
    reply(text('Wrote reports/q3.md.')),
  );
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Write the Q3 report in a reports folder');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('.task-group .chip-done').waitFor({ timeout: 20_000 });
  const changed = page.getByRole('button', { name: 'Changed files' });
  await expect.poll(() => changed.innerText(), { timeout: 10_000 }).toBe('Changed files (1)');
  // A screen reader hears the count too, not only "Changed files".
  await page.getByRole('button', { name: 'Changed files (1)', exact: true }).waitFor();
  await shot(page, 'journey-results-count');
  // One row per file (the file written twice is one), its path from the shared folder.
  await changed.click();
  const rows = page.getByRole('list', { name: 'Changed files' }).locator('li');
  await expect
    .poll(() => rows.evaluateAll((lis) => lis.map((li) => (li as HTMLElement).innerText.replace(/\s+/g, ' ').trim())))
    .toEqual(['NEW FOLDER workspace/reports', 'CREATED workspace/reports/q3.md View changes']);
  await shot(page, 'journey-results-rows');
  await changed.click();
  await page.getByRole('button', { name: 'Undo changes' }).click();
  await page.getByRole('button', { name: 'Confirm undo changes' }).click();
  await page.getByText("All of this task's changes were undone.").waitFor({ timeout: 10_000 });
  expect(await page.getByRole('button', { name: 'Undo changes' }).count()).toBe(0);
  // The count and the list agree: the file is listed as undone, and the button counts it as such
  // (it read "Changed files (0)" over a list that still showed the file).
  await expect.poll(() => changed.innerText(), { timeout: 10_000 }).toBe('Changed files (1 undone)');
  await changed.click();
  const list = page.getByRole('list', { name: 'Changed files' });
  await list.getByText('Created (undone)').waitFor();
  expect(await list.locator('li:not(.undone)').count()).toBe(0);
  // Undone rows stay readable: struck through, not faded (they were 2.98:1 light, 4.15:1 dark).
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await list.locator('li.undone').last().scrollIntoViewIfNeeded();
    expect({ scheme, low: await lowContrast(page) }).toEqual({ scheme, low: [] });
    await shot(page, `journey-results-undone-${scheme}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
});

it('cancelling a task that has done work asks first; the second tap cancels', async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  model.push(reply(toolUse('fs_write', { path: 'draft.md', content: 'draft\n' })), {
    kind: 'hang',
    afterHeaders: true,
  });
  await page.goto(`${td.url}/#`);
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Draft something long');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('Created draft.md').waitFor({ timeout: 20_000 });
  await expect.poll(() => model.openRequests(), { timeout: 10_000 }).toBe(1);
  await page.getByRole('button', { name: 'Cancel task' }).click();
  await page.getByText('Cancel stops the task where it is').waitFor();
  expect(await page.locator('.task-footer .chip-cancelled').count()).toBe(0);
  await shot(page, 'journey-cancel-asks');
  await page.getByRole('button', { name: 'Confirm cancel task' }).click();
  await page.locator('.task-footer .chip-cancelled').waitFor({ timeout: 10_000 });
  await expect.poll(() => model.openRequests(), { timeout: 10_000 }).toBe(0);
});

it('after undo, a file the task changed is put back, not removed; undone cards keep their contrast', async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  fs.writeFileSync(path.join(td.home, 'workspace', 'plan.txt'), 'Buy milk\n');
  model.push(
    reply(toolUse('fs_edit', { path: 'plan.txt', old_text: 'milk', new_text: 'oat milk' })),
    reply(text('Changed the plan.')),
  );
  await page.goto(`${td.url}/#`);
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Make it oat milk');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('Changed the plan.').waitFor({ timeout: 20_000 });
  await page.getByRole('button', { name: 'Undo changes' }).click();
  await page.getByRole('button', { name: 'Confirm undo changes' }).click();
  await page.getByText("All of this task's changes were undone.").waitFor({ timeout: 10_000 });
  const card = page.getByRole('list', { name: 'Result files' }).locator('li');
  // It said "Removed by undo", though the file is there, as it was before the task.
  await expect.poll(() => card.innerText()).toContain('Put back as it was by undo');
  expect(fs.readFileSync(path.join(td.home, 'workspace', 'plan.txt'), 'utf8')).toBe('Buy milk\n');
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await card.scrollIntoViewIfNeeded();
    expect({ scheme, low: await lowContrast(page) }).toEqual({ scheme, low: [] });
    await shot(page, `journey-results-undone-edit-${scheme}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
});

it('result files with the same name in different folders are told apart, by ear and by eye', async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  const deep = 'archive/2024/quarterly/regional/sales/north';
  model.push(
    reply(
      toolUse('fs_write', { path: 'north/report.md', content: '# North\n' }),
      toolUse('fs_write', { path: 'south/report.md', content: '# South\n' }),
      toolUse('fs_write', { path: `${deep}/summary.md`, content: '# Summary\n' }),
      toolUse('fs_write', { path: 'notes.md', content: '# Notes\n' }),
    ),
    reply(text('Wrote both reports.')),
  );
  await page.goto(`${td.url}/#`);
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Write a report for north and for south');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('Wrote both reports.').waitFor({ timeout: 20_000 });
  const cards = page.getByRole('list', { name: 'Result files' });
  await expect.poll(() => cards.locator('li').count()).toBe(4);
  // Both were "Open report.md (result file)": the same name for links to different files. A name
  // no other card has stays short.
  expect(await cards.getByRole('link').evaluateAll((as) => as.map((a) => a.getAttribute('aria-label')))).toEqual([
    'View changes to workspace/north/report.md',
    'Open workspace/north/report.md (result file)',
    'View changes to workspace/south/report.md',
    'Open workspace/south/report.md (result file)',
    'View changes to summary.md',
    'Open summary.md (result file)',
    'View changes to notes.md',
    'Open notes.md (result file)',
  ]);
  // A folder too long for its line loses its start, not the end that tells folders apart; a short
  // one is shown whole.
  const folders = await cards
    .locator('.result-folder')
    .evaluateAll((spans) => spans.map((s) => ({ text: s.textContent, fits: s.scrollWidth <= s.clientWidth })));
  expect(folders.map((f) => f.text)).toEqual([
    'workspace/north',
    'workspace/south',
    expect.stringMatching(/^…\/(.*\/)?sales\/north$/),
    'workspace',
  ]);
  expect(folders.every((f) => f.fits)).toBe(true);
  await cards.scrollIntoViewIfNeeded();
  await shot(page, 'journey-results-same-names');
  // With 200 % text the line is narrower: still the end of the folder, still on its line.
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '200%';
  });
  const deepLine = cards.locator('.result-folder').nth(2);
  await expect
    .poll(() => deepLine.evaluate((s) => ({ fits: s.scrollWidth <= s.clientWidth, text: s.textContent })))
    .toEqual({ fits: true, text: expect.stringMatching(/^…\/(.*\/)?north$/) });
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '';
  });
});
