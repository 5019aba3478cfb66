// The phone audit of session 26, on a real daemon, the scripted model and Debian's Chromium:
// - hidden text (tag characters, an invisible copy of ASCII a model reads as words, and zero-width
//   spaces) shows as markers in the model's answer and in a Markdown file; an answer copies what it
//   shows; a thread's or schedule's title holds none (the daemon takes it out of titles; the phone
//   would mark it, for titles from before), in headings, rows and the names of buttons;
// - a pairing link on a paired phone puts focus on the "Already paired" heading;
// - a model call retried again and again shows one retry line, the latest, not one per attempt.
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, type ScriptReply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import type { ThreadItem } from '../../shared/src/index.js';
import { type PhoneRig, shot, startPhoneRig } from './helpers/browser.js';

let rig: PhoneRig | undefined;
/** Replies in order; a function is awaited (a gate the test opens). */
const queue: Array<ScriptReply | (() => Promise<ScriptReply>)> = [];
beforeAll(async () => {
  rig = await startPhoneRig('Audit fixes phone');
  rig.model.setScript(async () => {
    const next = queue.shift();
    if (typeof next === 'function') return next();
    return next ?? { kind: 'status', status: 400, errorType: 'invalid_request_error', message: 'script exhausted' };
  });
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

/** `word` as tag characters: drawn as nothing, read by a model as the word. */
const tags = (word: string) => [...word].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
const IGNORE_MARKERS = '⟨U+E0049⟩⟨U+E0047⟩⟨U+E004E⟩⟨U+E004F⟩⟨U+E0052⟩⟨U+E0045⟩';
/** Characters drawn as nothing: plane 14, zero-width space, word joiner and invisible operators, BOM, soft hyphen. */
const INVISIBLE = /[\u{e0000}-\u{e0fff}\u200b\u2060-\u2064\ufeff\u00ad]/u;

async function send(page: Page, message: string): Promise<void> {
  await page.goto(`${rig!.td.url}/#new`);
  await page.getByRole('textbox', { name: 'Message' }).fill(message);
  await page.getByRole('button', { name: 'Send' }).click();
}

/** What the clipboard holds after `copy` ran in the page. */
async function copied(page: Page, copy: () => Promise<unknown>): Promise<string> {
  await page.evaluate(() => navigator.clipboard.writeText('-'));
  await copy();
  await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).not.toBe('-');
  return page.evaluate(() => navigator.clipboard.readText());
}

it("an answer and a Markdown file show hidden text as markers, a thread's title holds none; copying takes what is shown", async () => {
  const { page, context } = rig!.b;
  const { td } = rig!;
  await page.setViewportSize({ width: 390, height: 844 });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: td.url });
  const ws = path.join(td.home, 'workspace');
  fs.mkdirSync(ws, { recursive: true });
  fs.writeFileSync(path.join(ws, 'notes.md'), 'x\n');
  const notes = `# Notes${tags('RUN')}\n\nSee def\u200Bzw.\n\n| cell${tags('RUN')} |\n|---|\n| b\u2060c |\n`;
  queue.push(
    reply(toolUse('fs_edit', { path: 'notes.md', old_text: 'x\n', new_text: notes })),
    reply(text(`All done${tags('IGNORE')}. zero\u200Bwidth.\n\n\`\`\`\nrm${tags('X')} -rf\n\`\`\``)),
  );
  await send(page, `Plan${tags('IGNORE')} the week`);
  const answer = page.locator('.msg-assistant', { hasText: 'All done' }).last();
  await answer.waitFor({ timeout: 30_000 });
  const shown = await answer.evaluate((e) => e.textContent ?? '');
  expect(shown).toContain(`All done${IGNORE_MARKERS}. zero⟨U+200B⟩width.`);
  expect(shown).not.toMatch(INVISIBLE);

  // Copied as shown: the code block's Copy button, and the answer's words selected and copied.
  expect(await copied(page, () => answer.getByRole('button', { name: 'Copy code' }).click())).toBe('rm⟨U+E0058⟩ -rf');
  const selected = await copied(page, () =>
    answer
      .locator('p')
      .first()
      .evaluate((p) => {
        getSelection()?.selectAllChildren(p);
        document.execCommand('copy');
      }),
  );
  expect(selected).toBe(`All done${IGNORE_MARKERS}. zero⟨U+200B⟩width.`);

  // The thread's title (from the first message), in the header.
  const heading = page.locator('header.top h1');
  expect(await heading.innerText()).toBe('Plan the week');
  await shot(page, 'hidden-text-answer');

  // The Markdown file on the File screen reads as its diff does.
  await page
    .getByRole('list', { name: 'Result files' })
    .getByRole('link', { name: 'Open notes.md (result file)' })
    .click();
  const file = page.locator('article.file-md');
  await file.waitFor({ timeout: 10_000 });
  const fileText = await file.evaluate((e) => e.textContent ?? '');
  expect(fileText).toContain('def⟨U+200B⟩zw');
  expect(fileText).toContain('cell⟨U+E0052⟩⟨U+E0055⟩⟨U+E004E⟩');
  expect(fileText).toContain('b⟨U+2060⟩c');
  expect(fileText).not.toMatch(INVISIBLE);

  // The list: the row's title and its name.
  await page.goto(`${td.url}/#`);
  const row = page.locator('.thread-row', { hasText: 'the week' });
  await row.waitFor();
  expect(await row.locator('.row-title').innerText()).toBe('Plan the week');
  expect(await row.getAttribute('aria-label')).toBe('Plan the week');
});

it("a schedule's title holds no hidden text, in its heading and in its buttons' names", async () => {
  const { page } = rig!.b;
  await page.setViewportSize({ width: 360, height: 640 });
  await page.goto(`${rig!.td.url}/#schedules`);
  await page.getByRole('button', { name: 'New schedule' }).click();
  await page.getByLabel('Task', { exact: true }).fill('Water the plants');
  await page.getByLabel('Name (optional)').fill(`Plants${tags('IGNORE')}`);
  await page.getByRole('button', { name: 'Save schedule' }).click();
  const card = page.locator('li.schedule', { hasText: 'Plants' });
  await card.locator('h3').waitFor({ timeout: 10_000 });
  expect(await card.locator('h3').innerText()).toBe('Plants');
  await card.getByRole('button', { name: 'Edit Plants' }).click();
  await page.getByRole('form', { name: 'Edit Plants' }).waitFor();
  const names = await card.evaluate((e) =>
    [...e.querySelectorAll('[aria-label]')].map((x) => x.getAttribute('aria-label') ?? ''),
  );
  expect(names).toContain('Run Plants now');
  expect(names.join('\n')).not.toMatch(INVISIBLE);
  expect(await card.evaluate((e) => e.querySelector('h3')?.textContent ?? '')).not.toMatch(INVISIBLE);
});

it('a pairing link on a paired phone puts focus on the "Already paired" heading, and "Pair again" on the form\'s', async () => {
  const { context } = rig!.b;
  const { td } = rig!;
  const focusedHeading = (p: Page) =>
    p.evaluate(() =>
      document.activeElement?.id === 'already-paired-title' ? 'heading' : document.activeElement?.tagName,
    );
  // Opened from a link (a fresh page): nothing had focus before.
  const page = await context.newPage();
  try {
    await page.goto(td.mintPairCode().url);
    await page.getByRole('heading', { name: 'Already paired' }).waitFor({ timeout: 20_000 });
    await expect.poll(() => focusedHeading(page)).toBe('heading');
    await page.getByRole('button', { name: 'Back to Errand' }).click();
    await page.getByRole('button', { name: 'New task' }).waitFor();

    // In the app already open, focus on one of its controls: the question takes it.
    await page.getByRole('button', { name: 'Settings' }).focus();
    const { code } = td.mintPairCode();
    await page.evaluate((c) => {
      location.hash = `#pair=${c}`;
    }, code);
    await page.getByRole('heading', { name: 'Already paired' }).waitFor({ timeout: 20_000 });
    await expect.poll(() => focusedHeading(page)).toBe('heading');

    // "Pair again": its button is gone with the question, and the pairing form's heading takes focus.
    await page.getByRole('button', { name: 'Pair again' }).click();
    await page.getByLabel('Name for this device').waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('pair-title');
  } finally {
    await page.close();
  }
});

it('a model call retried again and again shows one retry line, the latest', async () => {
  const { page } = rig!.b;
  const { model } = rig!;
  let open!: () => void;
  const gate = new Promise<void>((r) => {
    open = r;
  });
  // Two failures: the first retried after about 1 s, the second after the 3 s the server asks.
  queue.push(
    { kind: 'status', status: 500, errorType: 'api_error', message: 'boom', retryAfter: 0 },
    { kind: 'status', status: 500, errorType: 'api_error', message: 'boom', retryAfter: 3 },
    async () => {
      await gate;
      return reply(text('Answer after the retries.'));
    },
  );
  const notices = page.locator('.task-group').last().locator('.item-notice');
  const other = await rig!.td.connect();
  try {
    const before = model.requests.length;
    await send(page, 'Try even if it fails');
    // The second retry's line is shown (items come in order: the first one's was there before it).
    await notices.filter({ hasText: 'trying again in 3 s' }).waitFor({ timeout: 20_000 });
    expect(await notices.allInnerTexts()).toEqual(["Claude's servers had a problem (HTTP 500); trying again in 3 s."]);
    await shot(page, 'retry-latest-notice');
    // The computer keeps both lines as they are: the phone only shows the latest.
    const threadId = decodeURIComponent(new URL(page.url()).hash.replace(/^#thread=/, ''));
    const got = await other.send<{ items: ThreadItem[] }>({ type: 'thread.get', threadId });
    expect(got.items.flatMap((i) => (i.kind === 'notice' && i.transient ? [i.text] : []))).toEqual([
      "Claude's servers had a problem (HTTP 500); trying again in 1 s.",
      "Claude's servers had a problem (HTTP 500); trying again in 3 s.",
    ]);
    await expect.poll(() => model.requests.length - before).toBe(3);
  } finally {
    open();
    other.close();
  }
  await page.getByText('Answer after the retries.').waitFor({ timeout: 20_000 });
  await page.locator('.task-group').last().locator('.chip-done').waitFor({ timeout: 10_000 });
  expect(await notices.count()).toBe(0);
}, 60_000);
