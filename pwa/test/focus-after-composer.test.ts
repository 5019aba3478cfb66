// The composer's own actions never leave focus on <body> (where keyboard, switch and screen-reader
// users start over from the top of the page): after Send in a thread, Reply to a question and a typed
// denial the message box keeps it; after Stop and Undo it is on the task's state line. Each action
// by keyboard (Enter on the focused button) and by a finger's tap (real touch input through CDP).
import type { CDPSession, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { type PhoneRig, startPhoneRig } from './helpers/browser.js';

let rig: PhoneRig | undefined;
let cdp: CDPSession | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Composer focus phone');
  cdp = await rig.b.context.newCDPSession(rig.b.page);
}, 120_000);
afterAll(async () => {
  await cdp?.detach().catch(() => undefined);
  await rig?.close();
});

/** The focused element, in a few words: its tag, class and name (or BODY when focus was lost). */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const a = document.activeElement;
    if (!a || a === document.body || !a.isConnected) return 'BODY';
    const name = (a.getAttribute('aria-label') ?? a.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 40);
    return `${a.tagName.toLowerCase()}${[...a.classList].map((c) => `.${c}`).join('')} "${name}"`;
  });
}

type How = 'keyboard' | 'tap';

/** Press a button as a keyboard or a switch does (focus, Enter), or with a finger (touch start, end). */
async function press(page: Page, button: Locator, how: How): Promise<void> {
  if (how === 'keyboard') {
    await button.focus();
    await page.keyboard.press('Enter');
    return;
  }
  await button.scrollIntoViewIfNeeded();
  const box = (await button.boundingBox())!;
  const point = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  await cdp!.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [point] });
  await cdp!.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
}

const MESSAGE_BOX = /^textarea\.composer-input "/;

for (const how of ['keyboard', 'tap'] as const) {
  it(`Send, Reply, a typed denial, Stop and Undo keep focus in the thread (${how})`, async () => {
    const { page } = rig!.b;
    const { model, td } = rig!;
    const button = (name: string) => page.getByRole('button', { name, exact: true });
    const box = page.getByRole('textbox', { name: 'Message' });
    const lastGroup = page.locator('.task-group').last();

    model.push(reply(text('First answer.')));
    await page.goto(`${td.url}/#new`);
    await box.fill(`Say hi (${how})`);
    await press(page, button('Send'), how);
    await page.getByText('First answer.').waitFor({ timeout: 20_000 });
    await lastGroup.locator('.chip-done').waitFor({ timeout: 20_000 });

    // A follow-up in the thread: the message box keeps focus while the answer streams in and after.
    model.push({ content: [text(`Second answer. ${'word '.repeat(40)}`)], chunkDelayMs: 15 });
    await box.fill('And again');
    await press(page, button('Send'), how);
    await expect.poll(() => focused(page)).toMatch(MESSAGE_BOX);
    await page.getByText('Second answer.').waitFor({ timeout: 20_000 });
    await lastGroup.locator('.chip-done').waitFor({ timeout: 20_000 });
    expect(await focused(page)).toMatch(MESSAGE_BOX);

    // The answer to the agent's question, typed in the message box.
    model.push(reply(toolUse('ask_user', { question: 'Which colour?' })), reply(text('Used the blue one.')));
    await box.fill('Pick a colour');
    await press(page, button('Send'), how);
    const replyBox = page.getByRole('textbox', { name: 'Reply to the question' });
    await replyBox.waitFor({ timeout: 20_000 });
    await replyBox.fill('blue');
    await press(page, button('Reply'), how);
    await expect.poll(() => focused(page)).toMatch(MESSAGE_BOX);
    await page.getByText('Used the blue one.').waitFor({ timeout: 20_000 });
    expect(await focused(page)).toMatch(MESSAGE_BOX);

    // Words typed while an action waits deny it.
    model.push(reply(toolUse('shell', { argv: ['touch', `no-${how}.txt`] })), reply(text('OK, not touching it.')));
    await box.fill('Touch a file');
    await press(page, button('Send'), how);
    await button('Approve').waitFor({ timeout: 20_000 });
    await box.fill('no, leave it');
    await press(page, button('Send'), how);
    await expect.poll(() => focused(page)).toMatch(MESSAGE_BOX);
    await page.getByText('OK, not touching it.').waitFor({ timeout: 20_000 });
    expect(await focused(page)).toMatch(MESSAGE_BOX);

    // Stop: the button goes with the task; focus is on the stopped task's state line.
    model.push({ kind: 'hang' });
    await box.fill('Take forever');
    await press(page, button('Send'), how);
    await press(page, button('Stop the task'), how);
    await lastGroup.locator('.task-footer .chip-cancelled').waitFor({ timeout: 20_000 });
    await expect.poll(() => focused(page)).toMatch(/^div\.task-line "Cancelled/);
    expect(await lastGroup.locator('.task-line').evaluate((el) => el === document.activeElement)).toBe(true);

    // Undo: its confirmation goes once nothing is left to undo; focus is on the task's state line.
    const file = `undo-${how}.txt`;
    model.push(reply(toolUse('shell', { argv: ['touch', file] })), reply(text(`Made ${file}.`)));
    await box.fill('Make a file');
    await press(page, button('Send'), how);
    await button('Approve').waitFor({ timeout: 20_000 });
    await button('Approve').click();
    await page.getByText(`Made ${file}.`).waitFor({ timeout: 20_000 });
    await press(page, lastGroup.getByRole('button', { name: 'Undo changes' }), how);
    await press(page, lastGroup.getByRole('button', { name: 'Confirm undo changes' }), how);
    await lastGroup.getByText("All of this task's changes were undone.").waitFor({ timeout: 20_000 });
    await expect.poll(() => focused(page)).toMatch(/^div\.task-line "Done/);
    expect(await lastGroup.locator('.task-line').evaluate((el) => el === document.activeElement)).toBe(true);
  }, 120_000);
}
