// Offline on a small phone at 200 % text: "Can't reach your computer" is one short line, so the page
// never scrolls under the finger, Send stays on screen and the conversation keeps room; what to check
// (computer awake, Errand running, same network) is one tap away, behind Why?. Light and dark.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text } from '../../daemon/test/helpers/model-server.js';
import { lowContrast, type PhoneRig, shot, startPhoneRig } from './helpers/browser.js';

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Offline fit phone');
  const { page } = rig.b;
  rig.model.push(reply(text('Here is the summary you asked for.')));
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Summarise the notes');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('Here is the summary you asked for.').waitFor({ timeout: 20_000 });
}, 120_000);
afterAll(async () => {
  await rig?.b.context.setOffline(false).catch(() => undefined);
  await rig?.close();
});

/** Where the shell's parts are, and how far the document itself scrolls. */
function layout(page: Page) {
  return page.evaluate(() => {
    const box = (sel: string) => {
      const r = document.querySelector(sel)?.getBoundingClientRect();
      return r ? { top: r.top, bottom: r.bottom, height: r.height } : undefined;
    };
    return {
      viewport: innerHeight,
      documentScrolls: document.documentElement.scrollHeight - innerHeight,
      banner: box('.banner-offline'),
      conversation: box('.conversation'),
      send: box('.composer .send-btn'),
    };
  });
}

async function expectFits(page: Page, what: string, minConversation: number): Promise<void> {
  const l = await layout(page);
  const where = `${what}: ${JSON.stringify(l)}`;
  expect(l.documentScrolls, where).toBeLessThanOrEqual(0);
  expect(l.send!.top, where).toBeGreaterThanOrEqual(0);
  expect(l.send!.bottom, where).toBeLessThanOrEqual(l.viewport + 0.5);
  expect(l.conversation!.height, where).toBeGreaterThanOrEqual(minConversation);
}

it('at 200 % text on 320×568 and 360×740 the offline banner leaves Send on screen and room to read', async () => {
  const { page, context } = rig!.b;
  await page.setViewportSize({ width: 320, height: 568 });
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '200%';
  });
  await context.setOffline(true);
  const banner = page.locator('.banner-offline');
  await banner.waitFor({ timeout: 15_000 });
  await page.getByRole('textbox', { name: 'Message' }).fill('Sent while offline');
  // Screen readers still hear the whole sentence, not just "Offline".
  expect(await page.getByRole('status').filter({ hasText: "Can't reach your computer" }).count()).toBe(1);
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    // One line: the text, Why? and Retry side by side (it was 367 px, one word a line beside Retry).
    expect((await banner.boundingBox())!.height).toBeLessThan(100);
    // A quarter of the screen or more for the conversation (it had 56 px, and Send was below the screen).
    await expectFits(page, `320 ${scheme}`, 568 / 4);
    expect({ scheme, low: await lowContrast(page) }).toEqual({ scheme, low: [] });
    await shot(page, `offline-banner-fit-320-${scheme}`);
  }
  await page.emulateMedia({ colorScheme: null });

  // What to do next, behind Why?: it scrolls within itself, Send stays on screen.
  const why = page.getByRole('button', { name: "Why can't it reach your computer?" });
  await why.click();
  expect(await why.getAttribute('aria-expanded')).toBe('true');
  const help = page.locator('#offline-why');
  expect(await help.innerText()).toMatch(/on and awake.*Errand is running.*errand status.*Wi-Fi/s);
  await expectFits(page, '320 with Why? open', 40);
  await shot(page, 'offline-banner-fit-320-why');
  await why.click();
  await help.waitFor({ state: 'detached' });

  // Sent while offline: the waiting message shows in the conversation, inside the screen.
  await page.getByRole('button', { name: 'Send' }).click();
  const waiting = page.getByText('Waiting for your computer');
  await waiting.waitFor();
  const w = (await waiting.boundingBox())!;
  const l = await layout(page);
  expect(w.y).toBeGreaterThanOrEqual(l.conversation!.top - 0.5);
  expect(w.y + w.height).toBeLessThanOrEqual(l.conversation!.bottom + 0.5);
  await expectFits(page, '320 sent', 568 / 4);

  await page.setViewportSize({ width: 360, height: 740 });
  await page.getByRole('textbox', { name: 'Message' }).fill('A second one while offline');
  await expectFits(page, '360', 740 / 3);
  expect((await banner.boundingBox())!.height).toBeLessThan(100);
  await shot(page, 'offline-banner-fit-360');

  // At normal text the whole sentence and the countdown are shown, on a phone-width line or two.
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '';
  });
  await page.getByText("Can't reach your computer — last seen").waitFor();
  await page.locator('.banner-countdown').waitFor();
  await expectFits(page, '360 at 100 %', 740 / 2);
  // The words beside Why? and Retry, not a row of their own above them.
  expect((await banner.boundingBox())!.height).toBeLessThan(100);
  await shot(page, 'offline-banner-fit-360-normal-text');
  await page.setViewportSize({ width: 360, height: 640 });
  await context.setOffline(false);
  await banner.waitFor({ state: 'detached', timeout: 20_000 });
}, 90_000);
