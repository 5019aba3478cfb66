// A message the computer refuses for good (here: its thread was deleted from another phone meanwhile)
// stays on screen with Retry and Discard, the only ways on from it: both are a finger's size (they
// were 36 px tall), also at 200 % text on a 320 px phone.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text } from '../../daemon/test/helpers/model-server.js';
import { type PhoneRig, shot, startPhoneRig, tooSmall } from './helpers/browser.js';

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Refused phone');
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

it('Retry and Discard on a refused message are at least 44 px', async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  model.push(reply(text('Hello there.')));
  await page.goto(`${td.url}/#`);
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Say hello');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('Hello there.').waitFor({ timeout: 20_000 });

  // Another phone deletes the thread while this one, offline, has a message waiting to go into it.
  const { context } = rig!.b;
  await context.setOffline(true);
  try {
    await page
      .getByText(/Can't reach your computer/)
      .first()
      .waitFor({ timeout: 20_000 });
    await page.getByRole('textbox', { name: 'Message' }).fill('And goodbye');
    await page.getByRole('button', { name: 'Send' }).click();
    const other = await td.connect();
    const threads = await other.send<Array<{ id: string }>>({ type: 'threads.list' });
    await other.send({ type: 'thread.delete', threadId: threads[0].id });
    other.close();
  } finally {
    await context.setOffline(false);
  }
  const retry = page.getByRole('button', { name: 'Retry sending' });
  await retry.waitFor({ timeout: 20_000 });
  expect(await tooSmall(page)).toEqual([]);
  await page.setViewportSize({ width: 320, height: 568 });
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '200%';
  });
  expect(await tooSmall(page)).toEqual([]);
  await shot(page, 'refused-message-200');
  for (const name of ['Retry sending', 'Discard message']) {
    const box = (await page.getByRole('button', { name }).boundingBox())!;
    expect(box.height).toBeGreaterThanOrEqual(44);
    expect(box.width).toBeGreaterThanOrEqual(44);
  }
});
