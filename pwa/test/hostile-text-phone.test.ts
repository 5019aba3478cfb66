// Hostile words on the phone, at phone size, against the real daemon and a scripted model:
// - a file that was already in the folder, named with a direction override (invoice<RLO>fdp.exe reads
//   "invoiceexe.pdf") or a zero-width space, shows its marks on the result card, in the changes list,
//   on the file and diff screens and in their buttons' names, while its links still open the real file;
// - a schedule's 80-character unbroken title wraps on the Schedules screen;
// - a link whose words name another address (a markdown link, a web search result's title) shows
//   where it really goes;
// - a question's text shows its marks and wraps at 320 px, open and once answered (last: it is the
//   one test whose failure leaves a scripted reply unused).

import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { type PhoneRig, shot, startPhoneRig } from './helpers/browser.js';

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Hostile text phone');
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

/** A control, invisible or direction-changing character drawn as itself. */
const HIDDEN = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

/** What scrolls sideways at this width: the page, or any element wider than the screen. */
const sideways = (page: Page) =>
  page.evaluate(() => {
    const out: string[] = [];
    const over = document.documentElement.scrollWidth - window.innerWidth;
    if (over > 0) out.push(`page by ${over} px`);
    for (const e of document.querySelectorAll<HTMLElement>('body *')) {
      if (e.offsetParent === null || e.closest('pre, table, .table-wrap, svg')) continue;
      const r = e.getBoundingClientRect();
      const scrolls = e.scrollWidth > e.clientWidth + 1 && /auto|scroll/.test(getComputedStyle(e).overflowX);
      if (scrolls || (r.width > 0 && r.right > window.innerWidth + 1))
        out.push(`${e.tagName.toLowerCase()}.${[...e.classList].join('.')}`);
    }
    return out;
  });

async function send(page: Page, message: string): Promise<void> {
  await page.goto(`${rig!.td.url}/#new`);
  await page.getByRole('textbox', { name: 'Message' }).fill(message);
  await page.getByRole('button', { name: 'Send' }).click();
}

/** Accessible names of the links and buttons under `selector`. */
const names = (page: Page, selector: string) =>
  page
    .locator(selector)
    .locator('a[href], button')
    .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? e.textContent ?? ''));

it('a file name with a direction override or a zero-width space shows its marks wherever it is shown', async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  await page.setViewportSize({ width: 390, height: 844 });
  const ws = path.join(td.home, 'workspace');
  fs.mkdirSync(ws, { recursive: true });
  // Already there (a download, an unzip): the daemon refuses such names only for files it creates.
  fs.writeFileSync(path.join(ws, 'invoice\u202Efdp.exe'), 'hello\n');
  fs.writeFileSync(path.join(ws, 'z\u200Bnotes.md'), 'x\n');
  model.push(
    reply(
      toolUse('fs_edit', { path: 'invoice\u202Efdp.exe', old_text: 'hello', new_text: 'bye' }),
      toolUse('fs_edit', { path: 'z\u200Bnotes.md', old_text: 'x', new_text: 'y' }),
    ),
    reply(text('Edited both.')),
  );
  await send(page, 'Edit the invoice');
  const cards = page.getByRole('list', { name: 'Result files' });
  await cards.locator('.result-name').nth(1).waitFor({ timeout: 30_000 });
  expect((await cards.locator('.result-name').allInnerTexts()).sort()).toEqual([
    'invoice⟨U+202E⟩fdp.exe',
    'z⟨U+200B⟩notes.md',
  ]);
  const cardNames = await names(page, '.result-cards');
  expect(cardNames).toContain('Open invoice⟨U+202E⟩fdp.exe (result file)');
  expect(cardNames.join('\n')).not.toMatch(HIDDEN);

  await page.getByRole('button', { name: /Changed files/ }).click();
  const changes = page.getByRole('list', { name: 'Changed files' });
  await changes.locator('li').nth(1).waitFor();
  expect(await changes.innerText()).toContain('workspace/invoice⟨U+202E⟩fdp.exe');
  expect(await changes.innerText()).not.toMatch(HIDDEN);
  expect((await names(page, '.changes')).join('\n')).not.toMatch(HIDDEN);
  await shot(page, 'hostile-text-result-names');

  // The diff screen: its title and name show the marks; it still shows the real file's change.
  await cards.getByRole('link', { name: 'View changes to invoice⟨U+202E⟩fdp.exe' }).click();
  await page.locator('.dl-del').first().waitFor();
  expect(await page.locator('header.top h1').innerText()).toBe('invoice⟨U+202E⟩fdp.exe');
  expect(await page.locator('header.top .path').innerText()).toBe('Changes · workspace/invoice⟨U+202E⟩fdp.exe');
  expect(await page.getByRole('main').getAttribute('aria-label')).toBe('Changes to invoice⟨U+202E⟩fdp.exe');
  await page.getByRole('button', { name: 'Back' }).click();

  // The file screen: title, folder line, the screen's name and Download; the real file opens.
  await cards.getByRole('link', { name: 'Open invoice⟨U+202E⟩fdp.exe (result file)' }).click();
  await page.getByText('bye').waitFor({ timeout: 10_000 });
  expect(await page.locator('header.top h1').innerText()).toBe('invoice⟨U+202E⟩fdp.exe');
  expect(await page.locator('header.top .path').innerText()).toBe('workspace/invoice⟨U+202E⟩fdp.exe');
  expect(await page.getByRole('main').getAttribute('aria-label')).toBe('File invoice⟨U+202E⟩fdp.exe');
  await page.getByRole('button', { name: 'Download invoice⟨U+202E⟩fdp.exe' }).waitFor();
  await shot(page, 'hostile-text-file-screen');
  // Download fetches the real file (named by its own name; Chromium itself makes the mark a "_").
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download invoice⟨U+202E⟩fdp.exe' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^invoice.fdp\.exe$/);
  expect(fs.readFileSync(await download.path(), 'utf8')).toBe('bye\n');
});

it("a file's lines, their diff and the answer show the characters that would make them read otherwise", async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  await page.setViewportSize({ width: 390, height: 844 });
  const ws = path.join(td.home, 'workspace');
  fs.mkdirSync(ws, { recursive: true });
  // "Trojan source": on screen the check reads as part of the comment, yet it runs.
  const trojan = 'if (role != "user\u202E \u2066// admins only\u2069 \u2066") {';
  fs.writeFileSync(path.join(ws, 'check.txt'), 'if (role != "user") {\n\treturn;\n}\n');
  model.push(
    reply(toolUse('fs_edit', { path: 'check.txt', old_text: 'if (role != "user") {', new_text: trojan })),
    reply(toolUse('fs_read', { path: 'check.txt' })),
    reply(text('Tightened the check in `check.txt`: invoice\u202Efdp.exe is untouched.')),
  );
  await send(page, 'Tighten the check');
  const answer = page.locator('.md', { hasText: 'Tightened the check' }).last();
  await answer.waitFor({ timeout: 30_000 });
  expect(await answer.innerText()).toContain('invoice⟨U+202E⟩fdp.exe is untouched');
  expect(await answer.innerText()).not.toMatch(HIDDEN);
  // The read step's output, opened.
  const read = page.locator('.tool', { hasText: 'check.txt' }).last();
  await read.locator('button.tool-head').click();
  const output = read.locator('.tool-body pre').last();
  expect(await output.innerText()).toContain('⟨U+202E⟩ ⟨U+2066⟩// admins only⟨U+2069⟩');
  expect((await output.innerText()).replace(/\t/g, '')).not.toMatch(HIDDEN);

  const cards = page.getByRole('list', { name: 'Result files' });
  await cards.getByRole('link', { name: 'View changes to check.txt' }).click();
  const added = page.locator('.dl-add').first();
  await added.waitFor({ timeout: 10_000 });
  expect(await added.innerText()).toContain('"user⟨U+202E⟩ ⟨U+2066⟩// admins only⟨U+2069⟩ ⟨U+2066⟩") {');
  expect((await page.locator('.hunk').first().innerText()).replace(/\t/g, '')).not.toMatch(HIDDEN);
  await shot(page, 'hostile-text-trojan-diff');
  await page.getByRole('button', { name: 'Back' }).click();

  await cards.getByRole('link', { name: 'Open check.txt (result file)' }).click();
  const lines = page.locator('pre.file-text');
  await lines.waitFor({ timeout: 10_000 });
  const shown = await lines.evaluate((e) => e.textContent ?? '');
  expect(shown).toContain('⟨U+202E⟩ ⟨U+2066⟩// admins only⟨U+2069⟩');
  expect(shown).toContain('\treturn;\n}'); // tabs and lines as they are
  expect(shown.replace(/\t/g, '')).not.toMatch(HIDDEN);
});

it('a schedule with an 80-character unbroken title fits the Schedules screen', async () => {
  const { page } = rig!.b;
  await page.setViewportSize({ width: 360, height: 640 });
  await page.goto(`${rig!.td.url}/#schedules`);
  await page.getByRole('button', { name: 'New schedule' }).click();
  await page.getByLabel('Task', { exact: true }).fill(`Summarise ${'https://example.com/'.repeat(8)}`);
  const title = 'T'.repeat(80);
  await page.getByLabel('Name (optional)').fill(title);
  await page.getByRole('button', { name: 'Save schedule' }).click();
  await page.locator('li.schedule h3', { hasText: title }).waitFor({ timeout: 10_000 });
  expect(await sideways(page)).toEqual([]);
  // Its edit form (the title in its heading, the task in its box) fits too.
  await page.getByRole('button', { name: `Edit ${title}` }).click();
  await page.getByRole('form', { name: `Edit ${title}` }).waitFor();
  for (const width of [360, 320]) {
    await page.setViewportSize({ width, height: 640 });
    expect(await sideways(page), `at ${width} px`).toEqual([]);
  }
  await shot(page, 'hostile-text-schedules-320');
});

it('a link whose words name another address shows where it really goes', async () => {
  const { page } = rig!.b;
  const { model } = rig!;
  await page.setViewportSize({ width: 360, height: 640 });
  model.push({
    content: [
      {
        type: 'server',
        block: { type: 'server_tool_use', id: 'srvtoolu_h1', name: 'web_search' },
        input: { query: 'bank login' },
      },
      {
        type: 'server',
        block: {
          type: 'web_search_tool_result',
          tool_use_id: 'srvtoolu_h1',
          content: [
            {
              type: 'web_search_result',
              url: 'https://evil.example.net/bank',
              title: 'https://bank.example.com/login',
              encrypted_content: 'E1',
            },
          ],
        },
      },
      {
        type: 'text',
        text:
          'Log in at [https://bank.example.com/login](https://evil.example.net/phish).\n\n' +
          '> **Needs your OK**\n>\n> [Approve](https://evil.example.net/ok) [Deny](https://evil.example.net/no)',
      },
    ],
    usage: { server_tool_use: { web_search_requests: 1 } },
  });
  await send(page, 'Where do I log in?');
  const answer = page.locator('.msg-assistant').last();
  await answer.getByText('Log in at').waitFor({ timeout: 20_000 });
  const phish = answer.getByRole('link', { name: 'https://bank.example.com/login (evil.example.net)', exact: true });
  expect(await phish.getAttribute('href')).toBe('https://evil.example.net/phish');
  expect(await answer.getByRole('link', { name: 'Approve (evil.example.net)', exact: true }).count()).toBe(1);
  // The note is on screen, not clipped: the person can read it before tapping.
  expect(await phish.locator('.link-host').isVisible()).toBe(true);

  const results = page.getByRole('list', { name: 'Search results' });
  const result = results.getByRole('link', { name: 'https://bank.example.com/login (evil.example.net)', exact: true });
  expect(await result.getAttribute('href')).toBe('https://evil.example.net/bank');
  expect(await sideways(page)).toEqual([]);
  await shot(page, 'hostile-text-links');
});

it('a question shows its direction marks and wraps at 320 px, open and once answered', async () => {
  const { page } = rig!.b;
  const { model } = rig!;
  await page.setViewportSize({ width: 320, height: 568 });
  const question = `Send the report to \u202Emoc.live@kcab\u202C?\nConfirm https://example.com/${'q'.repeat(600)}`;
  model.push(reply(toolUse('ask_user', { question })), reply(text('Not sent.')));
  await send(page, 'Ask me first');
  const card = page.getByRole('form', { name: 'Question from your computer' });
  await card.waitFor({ timeout: 20_000 });
  expect(await sideways(page)).toEqual([]);
  // Its marks shown, its line breaks kept.
  const shown = await card.locator('p').first().innerText();
  expect(shown).toContain('Send the report to ⟨U+202E⟩moc.live@kcab⟨U+202C⟩?\nConfirm https://example.com/qqq');
  expect(shown).not.toMatch(HIDDEN);
  await shot(page, 'hostile-text-question-320');

  await card.getByRole('textbox', { name: 'Your answer' }).fill('No');
  await card.getByRole('button', { name: 'Send answer' }).click();
  await page.getByText('Not sent.').waitFor({ timeout: 20_000 });
  const asked = page.locator('.asked-q');
  expect(await asked.innerText()).toContain('Send the report to ⟨U+202E⟩moc.live@kcab⟨U+202C⟩?');
  expect(await asked.innerText()).not.toMatch(HIDDEN);
  expect(await sideways(page)).toEqual([]);
});
