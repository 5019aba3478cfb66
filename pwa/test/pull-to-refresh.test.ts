// Pull to refresh in the thread list: a real touch drag (CDP touch input) at the top of the list
// fetches the list anew, so a change the phone missed shows without reopening the app.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type PhoneRig, shot, startPhoneRig } from './helpers/browser.js';

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Pull phone');
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

it('pulling the list down past the threshold refreshes it; a short pull does not', async () => {
  const { page } = rig!.b;
  const store = rig!.td.daemon.ctx.store;
  const doc = await store.threads.create('Before the pull', () => undefined);
  await rig!.td.daemon.ctx.emit({ kind: 'thread.updated', thread: store.threads.summary(doc.meta.id)! });
  await page.goto(`${rig!.td.url}/#`);
  await page.getByText('Before the pull').waitFor({ timeout: 20_000 });
  // Changed on the computer without an event (as if the phone had missed it).
  await store.threads.update(doc.meta.id, (d) => {
    d.meta.title = 'After the pull';
  });
  const cdp = await page.context().newCDPSession(page);
  const drag = async (to: number) => {
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: 180, y: 120 }] });
    for (let y = 120; y <= to; y += 20)
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x: 180, y }] });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  };
  await drag(160); // 40 px of finger: 20 px of pull, under the threshold
  await page
    .getByRole('status')
    .filter({ hasText: /refresh/i })
    .waitFor({ state: 'detached' });
  expect(await page.getByText('After the pull').count()).toBe(0);

  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: 180, y: 120 }] });
  for (let y = 120; y <= 320; y += 20)
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x: 180, y }] });
  await page.getByRole('status').filter({ hasText: 'Release to refresh' }).waitFor();
  await shot(page, 'list-pull-to-refresh');
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await page.getByText('After the pull').waitFor({ timeout: 10_000 });
  await cdp.detach();
});
