// A thread deleted on another device, while this phone shows it or while it is offline, says so on
// its screen: no message box and no Undo (the computer would refuse them), a Restore button that
// brings it back as it was, and a way back to the list. After a reconnect, and after a reload, it
// still says so; after Restore the thread takes messages again.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import type { WsTestClient } from '../../daemon/test/helpers/ws-client.js';
import { lowContrast, type PhoneRig, shot, startPhoneRig, tooSmall } from './helpers/browser.js';

let rig: PhoneRig | undefined;
let other: WsTestClient | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Deleted thread phone');
  other = await rig.td.connect();
}, 120_000);
afterAll(async () => {
  other?.close();
  await rig?.close();
});

type Summary = { id: string; title: string; state: string };

/** A new thread whose task changed a file (so it offers Undo); its id. */
async function threadWithChange(page: Page, title: string): Promise<string> {
  const { model, td } = rig!;
  model.push(
    reply(toolUse('shell', { argv: ['touch', `${title.replace(/\W/g, '-')}.txt`] })),
    reply(text(`${title} done.`)),
  );
  await page.goto(`${td.url}/#new`);
  await page.getByRole('textbox', { name: 'Message' }).fill(title);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('button', { name: 'Approve', exact: true }).click({ timeout: 20_000 });
  await page.getByText(`${title} done.`).waitFor({ timeout: 20_000 });
  await page.getByRole('button', { name: 'Undo changes' }).waitFor({ timeout: 20_000 });
  const list = await other!.send<Summary[]>({ type: 'threads.list' });
  return list.find((t) => t.title === title)!.id;
}

/** The screen of a deleted thread: said so, read-only, with Restore and a way back. */
async function expectDeletedScreen(page: Page, title: string): Promise<void> {
  await page.getByRole('status').filter({ hasText: 'This thread was deleted.' }).waitFor({ timeout: 20_000 });
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
  await page.getByRole('button', { name: 'Restore', exact: true }).waitFor();
  await page.getByRole('button', { name: 'All threads', exact: true }).waitFor();
  expect(await page.getByRole('textbox').count()).toBe(0);
  expect(await page.getByRole('button', { name: 'Send' }).count()).toBe(0);
  expect(await page.getByRole('button', { name: 'Undo changes' }).count()).toBe(0);
  // The conversation stays readable.
  await page.getByText(`${title} done.`).waitFor();
}

async function threadState(id: string): Promise<string | undefined> {
  const all = await other!.send<Summary[]>({ type: 'threads.list', includeArchived: true });
  return all.find((t) => t.id === id)?.state;
}

it('deleted live on another device: the screen says so; Restore makes it live again', async () => {
  const { page } = rig!.b;
  const title = 'Touch live';
  const id = await threadWithChange(page, title);
  // Focus in the message box when the thread goes: it moves to the notice, not to <body>.
  await page.getByRole('textbox', { name: 'Message' }).focus();

  await other!.send({ type: 'thread.delete', threadId: id });
  await expectDeletedScreen(page, title);
  expect(await page.evaluate(() => document.activeElement?.classList.contains('deleted-thread'))).toBe(true);
  await shot(page, 'thread-deleted-elsewhere');
  expect(await tooSmall(page)).toEqual([]);
  expect(await lowContrast(page)).toEqual([]);
  // One-handed: Restore is in the bottom half of the screen.
  const restoreBox = (await page.getByRole('button', { name: 'Restore', exact: true }).boundingBox())!;
  expect(restoreBox.y).toBeGreaterThan(320);
  // A small phone in dark mode with large text: readable, nothing sideways, buttons a finger's size.
  await page.setViewportSize({ width: 320, height: 568 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '200%';
  });
  try {
    await shot(page, 'thread-deleted-elsewhere-320-dark-200');
    expect(await tooSmall(page)).toEqual([]);
    expect(await lowContrast(page)).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
    const bar = (await page.locator('.deleted-thread').boundingBox())!;
    expect(bar.x + bar.width).toBeLessThanOrEqual(320);
    // Both ways on are on the screen, with some of the conversation still in view above them.
    for (const name of ['Restore', 'All threads']) {
      const b = (await page.getByRole('button', { name, exact: true }).boundingBox())!;
      expect(b.y + b.height).toBeLessThanOrEqual(568);
    }
    expect(bar.y).toBeGreaterThan(150);
  } finally {
    await page.evaluate(() => {
      document.documentElement.style.fontSize = '';
    });
    await page.emulateMedia({ colorScheme: null });
    await page.setViewportSize({ width: 360, height: 640 });
  }

  await page.getByRole('button', { name: 'Restore', exact: true }).click();
  await page.getByRole('textbox', { name: 'Message' }).waitFor();
  await page.getByRole('button', { name: 'Undo changes' }).waitFor();
  expect(await page.getByText('This thread was deleted.').count()).toBe(0);
  expect(await threadState(id)).toBe('active');
  // The screen's heading has focus, not <body> (the message box would open the keyboard unasked).
  await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe('H1');

  // Live again: a follow-up goes through.
  rig!.model.push(reply(text('Answer after the restore.')));
  await page.getByRole('textbox', { name: 'Message' }).fill('One more thing');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('Answer after the restore.').waitFor({ timeout: 20_000 });
}, 90_000);

it('deleted while this phone was offline: shown deleted after the reconnect and after a reload', async () => {
  const { page, context } = rig!.b;
  const title = 'Touch offline';
  const id = await threadWithChange(page, title);

  await context.setOffline(true);
  try {
    await page
      .getByText(/Can't reach your computer/)
      .first()
      .waitFor({ timeout: 20_000 });
    await other!.send({ type: 'thread.delete', threadId: id });
  } finally {
    await context.setOffline(false);
  }
  await expectDeletedScreen(page, title);

  // Kept in the phone's saved state: a reload (the app opened again) shows the same.
  await page.reload();
  await expectDeletedScreen(page, title);

  // The way back: the list, where the deleted thread is not.
  await page.getByRole('button', { name: 'All threads', exact: true }).click();
  await page.getByRole('button', { name: 'New task' }).waitFor();
  expect(await page.getByRole('link', { name: new RegExp(`^${title}`) }).count()).toBe(0);
  await page.getByRole('link', { name: /^Touch live/ }).waitFor();
  expect(await threadState(id)).toBe('deleted');
}, 90_000);
