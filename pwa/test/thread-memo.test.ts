// Streaming into a long thread touches only what changed: while an answer streams in below 200 earlier
// messages, none of those messages or their task groups renders again, and their DOM nodes stay the
// same nodes. Earlier messages shown by scrolling up do not re-render the ones already on screen.
// The app reports each memoised render that was not skipped to window.__errandRenderProbe (ui/memo.ts).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { text } from '../../daemon/test/helpers/model-server.js';
import { type PhoneRig, startPhoneRig } from './helpers/browser.js';
import { finishedHistory } from './helpers/history.js';

const TASKS = 100;

const history = (threadId: string) => finishedHistory(threadId, TASKS);

const historyIds = new Set(Array.from({ length: TASKS }, (_, i) => [`u${i}`, `a${i}`]).flat());
const STREAMED = `## First part\n\nThe streamed answer, word by word: ${'one two three four five six seven eight nine ten '.repeat(6)}end.`;

let rig: PhoneRig | undefined;
let threadId = '';
beforeAll(async () => {
  rig = await startPhoneRig('Memo phone');
  const doc = await rig.td.daemon.ctx.store.threads.create('A thread of 200 messages', (d) => {
    const h = history(d.meta.id);
    d.items.push(...h.items);
    d.tasks.push(...h.tasks);
  });
  threadId = doc.meta.id;
  // Record the item id (a message) or first item id (a task group) of every memoised render.
  await rig.b.page.addInitScript(() => {
    const w = window as unknown as { __renders: string[]; __errandRenderProbe: (p: object) => void };
    w.__renders = [];
    w.__errandRenderProbe = (p) => {
      const props = p as { item?: { id: string }; items?: { id: string }[] };
      const id = props.item?.id ?? props.items?.[0]?.id;
      if (id) w.__renders.push(id);
    };
  });
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

const renders = () => rig!.b.page.evaluate(() => (window as unknown as { __renders: string[] }).__renders.slice());
const clearRenders = () =>
  rig!.b.page.evaluate(() => {
    (window as unknown as { __renders: string[] }).__renders.length = 0;
  });

it('a streamed answer re-renders only itself: earlier messages keep their renders and their nodes', async () => {
  const { page } = rig!.b;
  await page.reload();
  await page.goto(`${rig!.td.url}/#thread=${threadId}`);
  await page.getByText('Answer number 99, done.').waitFor({ timeout: 20_000 });
  // The probe is live: opening the thread rendered the latest messages through it.
  await expect.poll(async () => (await renders()).includes('a99')).toBe(true);

  // Mark earlier nodes, then stream an answer in many small pieces.
  await page.evaluate(() => {
    for (const sel of ['[data-item="a99"]', '[data-item="a80"]'])
      (document.querySelector(sel) as unknown as { __mark: boolean }).__mark = true;
  });
  await clearRenders();
  // The answer's first part (its heading), marked the moment it shows while streaming.
  await page.evaluate(() => {
    new MutationObserver((_, mo) => {
      const h = document.querySelector('.msg-assistant.streaming h3');
      if (h) {
        (h as unknown as { __mark: boolean }).__mark = true;
        mo.disconnect();
      }
    }).observe(document.body, { childList: true, subtree: true });
  });
  rig!.model.push({ content: [text(STREAMED)], chunkDelayMs: 25 });
  await page.getByRole('textbox', { name: 'Message' }).fill('One more question');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('end.', { exact: false }).last().waitFor({ timeout: 30_000 });
  await page.locator('.msg-assistant.streaming').waitFor({ state: 'detached', timeout: 30_000 });

  const newId = await page.locator('.msg-assistant').last().getAttribute('data-item');
  expect(newId).toBeTruthy();
  expect(historyIds.has(newId!)).toBe(false);
  const seen = await renders();
  // The new answer rendered once per streamed update (several), and nothing from the history did.
  expect(seen.filter((id) => id === newId).length).toBeGreaterThan(2);
  expect(seen.filter((id) => historyIds.has(id))).toEqual([]);
  expect(
    await page.evaluate(() =>
      ['[data-item="a99"]', '[data-item="a80"]'].map(
        (sel) => (document.querySelector(sel) as unknown as { __mark?: boolean } | null)?.__mark === true,
      ),
    ),
  ).toEqual([true, true]);
  expect(await page.locator('.msg-assistant').last().textContent()).toContain('The streamed answer, word by word');
  // Its first part was rendered once: the same node through the stream and after it finished.
  expect(
    await page
      .locator('.msg-assistant')
      .last()
      .locator('h3')
      .evaluate((h) => (h as unknown as { __mark?: boolean }).__mark === true),
  ).toBe(true);
});

it('scrolling up shows earlier messages without re-rendering the ones on screen', async () => {
  const { page } = rig!.b;
  const groups = page.locator('.conversation .task-group');
  const before = await groups.count();
  expect(await page.getByText('Question number 50', { exact: true }).count()).toBe(0);
  await clearRenders();
  const log = page.getByRole('log', { name: 'Conversation' });
  await log.evaluate((el) => el.scrollTo({ top: 0 }));
  await expect.poll(() => groups.count(), { timeout: 10_000 }).toBeGreaterThan(before);
  expect(await page.getByText('Question number 50', { exact: true }).count()).toBe(1);
  const seen = await renders();
  expect(seen).toContain('u50');
  expect(seen.filter((id) => id === 'u99' || id === 'a99')).toEqual([]);
});
