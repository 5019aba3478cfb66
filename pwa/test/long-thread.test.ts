// A long thread on the phone: it opens at its latest tasks (rendering the whole history would make
// every streamed word cost more), earlier ones come by a tap or by scrolling up, and the view stays
// where the person was reading. A new answer still streams in at the bottom.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text } from '../../daemon/test/helpers/model-server.js';
import { type PhoneRig, shot, startPhoneRig, unnamedControls } from './helpers/browser.js';
import { finishedHistory } from './helpers/history.js';

const TASKS = 100;

const history = (threadId: string) => finishedHistory(threadId, TASKS);

let rig: PhoneRig | undefined;
let threadId = '';
beforeAll(async () => {
  rig = await startPhoneRig('Long thread phone');
  const doc = await rig.td.daemon.ctx.store.threads.create('A long thread', (d) => {
    const h = history(d.meta.id);
    d.items.push(...h.items);
    d.tasks.push(...h.tasks);
  });
  threadId = doc.meta.id;
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

it('opens at the latest tasks and adds earlier ones above without moving the view', async () => {
  const { page } = rig!.b;
  await page.goto(`${rig!.td.url}/#thread=${threadId}`);
  await page.getByText('Answer number 99, done.').waitFor({ timeout: 20_000 });
  const groups = page.locator('.conversation .task-group');
  expect(await groups.count()).toBe(30);
  expect(await page.getByText('Question number 69', { exact: true }).count()).toBe(0);
  const earlier = page.getByRole('button', { name: 'Show earlier messages (70 tasks)' });
  await earlier.waitFor();
  await shot(page, 'long-thread-latest');

  // A tap adds 30 more above; the message that was on screen stays where it was.
  const log = page.getByRole('log', { name: 'Conversation' });
  const anchor = page.getByText('Question number 75', { exact: true });
  await anchor.scrollIntoViewIfNeeded();
  const topBefore = await anchor.evaluate((el) => el.getBoundingClientRect().top);
  // (A click through the DOM: Playwright's own would first scroll the button into view.)
  await earlier.evaluate((el) => (el as HTMLButtonElement).click());
  await expect.poll(() => groups.count()).toBe(60);
  expect(await anchor.evaluate((el) => el.getBoundingClientRect().top)).toBeCloseTo(topBefore, -1);
  expect(await page.getByText('Question number 40', { exact: true }).count()).toBe(1);

  // Scrolling to the top brings 30 more by itself, each time (the view stays put, so scroll again).
  await log.evaluate((el) => el.scrollTo({ top: 0 }));
  await expect.poll(() => groups.count(), { timeout: 10_000 }).toBe(90);
  expect(await log.evaluate((el) => el.scrollTop)).toBeGreaterThan(0);
  await log.evaluate((el) => el.scrollTo({ top: 0 }));
  await expect.poll(() => groups.count(), { timeout: 10_000 }).toBe(TASKS);
  await expect.poll(() => page.getByRole('button', { name: /Show earlier messages/ }).count()).toBe(0);
  expect(await page.getByText('Question number 0', { exact: true }).count()).toBe(1);
  expect(await unnamedControls(page)).toEqual([]);
});

it('a new answer streams in at the bottom of the long thread', async () => {
  const { page } = rig!.b;
  rig!.model.push(reply(text('A fresh answer at the end of a long thread.')));
  await page.getByRole('textbox', { name: 'Message' }).fill('One more question');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('A fresh answer at the end of a long thread.').waitFor({ timeout: 20_000 });
  const log = page.getByRole('log', { name: 'Conversation' });
  await expect.poll(() => log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThan(80);
  // Earlier answers are untouched.
  expect(await page.getByText('Answer number 0, done.').count()).toBe(1);
});
