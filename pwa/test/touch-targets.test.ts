// One-handed on a small phone: every control a finger uses is at least 44 px in both directions (a
// switch counts by its row, the label that toggles it), on the thread list, a new task with a file
// attached, a thread with steps, an approval and a finished answer, and Settings; at 200 % text
// nothing scrolls sideways and the composer and the header's state chip stay on screen.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { type PhoneRig, shot, startPhoneRig, tooSmall } from './helpers/browser.js';

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Touch phone');
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

it('every touch target is at least 44 px, and 200 % text still fits', async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  model.push(
    reply(toolUse('fs_write', { path: 'notes.md', content: '# Notes' })),
    reply(toolUse('shell', { argv: ['ls', '-la', '--color=never', `reports/${'quarterly-'.repeat(6)}end.txt`] })),
    reply(text('Done. Wrote notes.md.')),
  );
  await page.goto(`${td.url}/#`);
  await page.getByRole('button', { name: 'New task' }).waitFor();
  expect(await tooSmall(page)).toEqual([]);
  await page.getByRole('button', { name: 'New task' }).click();
  expect(await tooSmall(page)).toEqual([]);
  // A file attached: its chip's Remove button is a finger's size too (it was 36 px).
  await page
    .getByLabel('Choose files to attach')
    .setInputFiles({ name: 'budget.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b\n1,2\n') });
  const remove = page.getByRole('button', { name: 'Remove budget.csv' });
  await remove.waitFor();
  expect(await tooSmall(page)).toEqual([]);
  await shot(page, 'touch-attached-file');
  await remove.click();
  await remove.waitFor({ state: 'detached' });
  await page.getByRole('textbox', { name: 'Message' }).fill('Write notes, then list the folder');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('button', { name: 'Approve' }).waitFor({ timeout: 15_000 });
  expect(await tooSmall(page)).toEqual([]);
  // 200 % text while the task runs (Stop beside Send): the message box keeps room to write in; it
  // takes a line of its own above the buttons rather than a sliver between them.
  await page.getByRole('button', { name: 'Stop the task' }).waitFor();
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '200%';
  });
  const running = await page.getByRole('textbox', { name: 'Message' }).boundingBox();
  expect(running!.width).toBeGreaterThan(250);
  expect(await tooSmall(page)).toEqual([]);
  for (const name of ['Attach files', 'Stop the task', 'Send']) {
    const box = (await page.getByRole('button', { name, exact: true }).boundingBox())!;
    expect(box.y + box.height).toBeLessThanOrEqual(640 + 1);
    expect(box.x + box.width).toBeLessThanOrEqual(360 + 1);
  }
  // The approval card's header: "Needs your OK" and the expiry were squeezed side by side onto two or
  // three lines each. The expiry now goes under the title, on one line; the title has the card's width.
  const head = await page
    .locator('.approval-head')
    .first()
    .evaluate((h) => {
      const lines = (el: Element) => {
        const range = document.createRange();
        range.selectNodeContents(el);
        return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
      };
      const [title, expiry] = [...h.children];
      const t = title.getBoundingClientRect();
      const e = expiry.getBoundingClientRect();
      /** The line (its top) each word of the title is on. */
      const words = (el: Element) => {
        const node = el.firstChild as Text;
        return [...node.data.matchAll(/\S+/g)].map((m) => {
          const range = document.createRange();
          range.setStart(node, m.index);
          range.setEnd(node, m.index + m[0].length);
          return `${m[0]}@${Math.round(range.getBoundingClientRect().top)}`;
        });
      };
      const [, your, ok] = words(title);
      return {
        expiryLines: lines(expiry),
        stacked: e.top >= t.bottom - 1,
        titleFullWidth: lines(title) === 1 || t.width >= h.getBoundingClientRect().width - 1,
        // Not "Needs your / OK": "OK" never on a line of its own.
        okWithYour: your.split('@')[1] === ok.split('@')[1],
      };
    });
  expect(head).toEqual({ expiryLines: 1, stacked: true, titleFullWidth: true, okWithYour: true });
  await shot(page, 'touch-200-percent-running');
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '';
  });
  // The app scrolled to the card itself: no "Jump to latest" pill over Approve and Deny.
  expect(await page.getByRole('button', { name: /Jump to latest/ }).count()).toBe(0);
  // The whole command is in view before Approve: wrapped, nothing scrolled off to the side.
  const command = page.locator('.approval-command').first();
  expect(await command.evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0);
  expect(await command.innerText()).toContain('end.txt');
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.getByText('Done. Wrote notes.md.').waitFor({ timeout: 15_000 });
  expect(await tooSmall(page)).toEqual([]);

  // 200 % text: no sideways scrolling; the header chip and the composer stay on screen.
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '200%';
  });
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(await overflow()).toBeLessThanOrEqual(0);
  for (const loc of [page.locator('header.top .chip').first(), page.getByRole('textbox', { name: 'Message' })]) {
    const box = await loc.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.y).toBeGreaterThanOrEqual(0);
    expect(box!.y + box!.height).toBeLessThanOrEqual(640 + 1);
    expect(box!.x + box!.width).toBeLessThanOrEqual(360 + 1);
  }
  // A title of two lines at most, a state chip never cut ("Waiting for…" lost the word that says
  // to act), and a message box wide enough to write in.
  const title = page.locator('header.top h1');
  const lineHeight = await title.evaluate((el) => Number.parseFloat(getComputedStyle(el).lineHeight));
  expect((await title.boundingBox())!.height).toBeLessThan(lineHeight * 2.5);
  const chip = page.locator('header.top .chip').first();
  expect(await chip.evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0);
  expect((await page.getByRole('textbox', { name: 'Message' }).boundingBox())!.width).toBeGreaterThan(150);
  // The result file's card: its name is readable and Changes and Open stay inside it (they go to a
  // second line rather than past the card's edge, where Open was cut off and the name squeezed to nothing).
  const result = page.locator('.result-card').first();
  await result.scrollIntoViewIfNeeded();
  const inCard = await result.evaluate((card) => {
    const c = card.getBoundingClientRect();
    return {
      nameWidth: card.querySelector('.result-name')!.getBoundingClientRect().width,
      outside: [...card.querySelectorAll('a')]
        .filter((a) => a.getBoundingClientRect().right > c.right + 0.5)
        .map((a) => a.textContent),
    };
  });
  expect(inCard.outside).toEqual([]);
  expect(inCard.nameWidth).toBeGreaterThan(60);
  await shot(page, 'touch-200-percent-result');
  await result.getByRole('link', { name: 'Open notes.md (result file)' }).waitFor();
  await shot(page, 'touch-200-percent-thread');
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '';
  });

  await page.getByRole('button', { name: 'Back to threads' }).click();
  // The thread list at 200 %: a row's title keeps most of the width (the time and the last line go
  // under it when they do not fit beside it), instead of a few letters and an ellipsis.
  await page.getByRole('button', { name: 'New task' }).waitFor();
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '200%';
  });
  const row = page.locator('.thread-row').first();
  const widths = await row.evaluate((r) => {
    const w = (sel: string) => r.querySelector(sel)!.getBoundingClientRect();
    const inner = r.getBoundingClientRect();
    return {
      title: w('.row-title').width,
      line: w('.row-line').width,
      time: w('.row-time').right <= inner.right + 0.5 && w('.row-time').width > 0,
      row: inner.width,
    };
  });
  expect(widths.title).toBeGreaterThan(widths.row * 0.6);
  expect(widths.line).toBeGreaterThan(widths.row * 0.6);
  expect(widths.time).toBe(true);
  expect(await overflow()).toBeLessThanOrEqual(0);
  await shot(page, 'touch-200-percent-list');
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '';
  });
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  expect(await tooSmall(page)).toEqual([]);
});
