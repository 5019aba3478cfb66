// An approval card reads as what runs. A model asked to run
//   bash -c 'echo hi <RLO><LRI>;rm -rf data;<PDI> <LRI>#<PDI><PDF>'
// and the card, drawing those direction marks as they are, read `bash -c 'echo hi # ;rm -rf data;'`:
// the rm looked commented out, and the Details JSON was reordered the same way. Now every invisible,
// control or direction-changing character on the card (sentence, command, Details, summary) is shown
// as ⟨U+XXXX⟩, and the card's characters are drawn left to right in the order they run, right-to-left
// letters included.
import fs from 'node:fs';
import path from 'node:path';
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { type PhoneRig, shot, startPhoneRig } from './helpers/browser.js';

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Bidi phone');
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

/** Every control, invisible and direction-changing character the card must never draw as itself. */
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

/**
 * The characters of an element that are drawn out of reading order: each visible character must sit
 * on a later line than the one before it, or on the same line further right.
 */
const outOfOrder = (el: Locator) =>
  el.evaluate((root) => {
    const bad: string[] = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    let prev: { ch: string; r: DOMRect } | undefined;
    for (let node = walker.nextNode() as Text | null; node; node = walker.nextNode() as Text | null) {
      const t = node.data;
      for (let i = 0; i < t.length; ) {
        const ch = String.fromCodePoint(t.codePointAt(i)!);
        range.setStart(node, i);
        range.setEnd(node, i + ch.length);
        i += ch.length;
        const r = range.getClientRects()[0];
        if (!r || r.width === 0 || /\s/.test(ch)) continue;
        if (prev) {
          const sameLine = Math.abs(r.top - prev.r.top) < prev.r.height / 2;
          const later = r.top > prev.r.top + prev.r.height / 2 || (sameLine && r.left >= prev.r.left + 0.5);
          if (!later) bad.push(`${ch} drawn before ${prev.ch}`);
        }
        prev = { ch, r };
      }
    }
    return bad;
  });

it('a command hiding its rm behind direction marks shows the marks, and the rm where it runs', async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  // The working folder's name carries marks too (the sentence's path), and the last argument is
  // right-to-left letters with a slash and digits between them, which a browser reorders on its own.
  const folder = 'old\u202E\u2066 safe\u2069';
  fs.mkdirSync(path.join(td.home, 'workspace', folder));
  const script = 'echo hi \u202E\u2066;rm -rf data;\u2069 \u2066#\u2069\u202C';
  model.push(
    reply(toolUse('shell', { argv: ['bash', '-c', script, 'א/1 ב/2'], cwd: folder })),
    reply(text('Understood, I did not run it.')),
  );
  await page.goto(`${td.url}/#`);
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Say hi');
  await page.getByRole('button', { name: 'Send' }).click();
  const card = page.getByRole('region', { name: /Approval needed/ });
  await card.waitFor({ timeout: 20_000 });

  const command = card.getByLabel('Command');
  const shown = await command.innerText();
  expect(shown).toBe("bash -c 'echo hi ⟨U+202E⟩⟨U+2066⟩;rm -rf data;⟨U+2069⟩ ⟨U+2066⟩#⟨U+2069⟩⟨U+202C⟩' 'א/1 ב/2'");
  expect(shown).not.toMatch(HIDDEN);
  // The rm comes before the "#", on screen as in the text.
  expect(await outOfOrder(command)).toEqual([]);

  const sentence = card.locator('.approval-summary');
  expect(await sentence.innerText()).toBe(
    'Your computer wants to run a command in workspace/old⟨U+202E⟩⟨U+2066⟩ safe⟨U+2069⟩.',
  );
  expect(await outOfOrder(sentence)).toEqual([]);
  expect(await card.getAttribute('aria-label')).not.toMatch(HIDDEN);

  await card.getByText('Details').click();
  const details = card.locator('.approval-action');
  await details.waitFor();
  const json = await details.innerText();
  expect(json).toContain('"echo hi ⟨U+202E⟩⟨U+2066⟩;rm -rf data;⟨U+2069⟩ ⟨U+2066⟩#⟨U+2069⟩⟨U+202C⟩"');
  expect(json).toContain('old⟨U+202E⟩⟨U+2066⟩ safe⟨U+2069⟩"');
  // Its line breaks are the JSON's layout (a line break inside a string is JSON's own "\n").
  expect(json.replaceAll('\n', ' ')).not.toMatch(HIDDEN);
  expect(await outOfOrder(details)).toEqual([]);
  await shot(page, 'approval-bidi');

  // Decided, the card goes (as from every phone): the step row records it, shown the same way.
  await page.getByRole('button', { name: 'Deny' }).click();
  await page.getByText('Understood, I did not run it.').waitFor({ timeout: 15_000 });
  expect(await card.count()).toBe(0);
  // The step row beside it, and its input when opened, show the marks too.
  const step = page.locator('.tool-summary').last();
  expect(await step.innerText()).toContain(';rm -rf data;⟨U+2069⟩ ⟨U+2066⟩#');
  await page.locator('.tool-head').last().click();
  const input = await page.locator('.tool-body pre').first().innerText();
  expect(input).toContain('⟨U+202E⟩');
  expect(input.replaceAll('\n', ' ')).not.toMatch(HIDDEN);
});

it("a tool name the model made up with direction marks shows the marks in the step's Input label", async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  model.push(reply(toolUse('fs_read\u202Eevil', { path: 'x.txt' })), reply(text('No such tool, then.')));
  await page.goto(`${td.url}/#`);
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Read it');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('No such tool, then.').waitFor({ timeout: 20_000 });
  await page.locator('.tool-head').last().click();
  const label = page.locator('.tool-body .label').first();
  expect(await label.textContent()).toBe('Input (fs_read⟨U+202E⟩evil)');
});
