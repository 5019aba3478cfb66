// Haptic feedback where the platform has it: a buzz when the computer starts waiting for the person and
// a short one when the task is done; nothing for the threads found on load.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { type PhoneRig, startPhoneRig } from './helpers/browser.js';

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Haptics phone');
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

const vibrations = () =>
  rig!.b.page.evaluate(() => (window as unknown as { vibrations: number[][] }).vibrations.map((p) => p.join(',')));

it('buzzes when a question waits for the person and when the task is done', async () => {
  const { page, context } = rig!.b;
  const { model, td } = rig!;
  // Record vibrations instead of buzzing (headless Chromium has no motor).
  await context.addInitScript(() => {
    const w = window as unknown as { vibrations: number[][] };
    w.vibrations = [];
    const record = (p: number | Iterable<number>): boolean => {
      w.vibrations.push(typeof p === 'number' ? [p] : [...p]);
      return true;
    };
    navigator.vibrate = record;
  });
  // A finished thread exists before the app loads: finding it on load does not buzz.
  model.push(reply(text('Earlier work done.')));
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Earlier work');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('.task-group .chip-done').waitFor({ timeout: 20_000 });
  await page.goto(`${td.url}/#`);
  await page.reload();
  await page.locator('.thread-row').filter({ hasText: 'Earlier work' }).waitFor({ timeout: 15_000 });
  expect(await vibrations()).toEqual([]);

  model.push(reply(toolUse('ask_user', { question: 'Which folder should I tidy?' })), reply(text('Tidied Downloads.')));
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Tidy a folder');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('header.top .chip-waiting').waitFor({ timeout: 15_000 });
  await expect.poll(vibrations, { timeout: 10_000 }).toEqual(['30,60,30']);
  await page.getByRole('textbox', { name: 'Reply to the question' }).fill('Downloads');
  await page.getByRole('button', { name: 'Reply', exact: true }).click();
  await page.locator('.task-group .chip-done').waitFor({ timeout: 15_000 });
  await expect.poll(vibrations, { timeout: 10_000 }).toEqual(['30,60,30', '20']);
});
