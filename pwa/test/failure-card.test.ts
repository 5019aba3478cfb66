// A failed task is one card: one plain sentence, Retry first, the full reason behind Details; the
// list row says the same sentence instead of the prompt. A retry notice shows while the model call
// is being retried and is gone once the task has ended.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, type ScriptReply, text } from '../../daemon/test/helpers/model-server.js';
import { type PhoneRig, shot, startPhoneRig } from './helpers/browser.js';

let rig: PhoneRig | undefined;
/** Replies in order; a function is awaited (a gate the test opens). */
const queue: Array<ScriptReply | (() => Promise<ScriptReply>)> = [];
beforeAll(async () => {
  rig = await startPhoneRig('Failure phone');
  rig.model.setScript(async () => {
    const next = queue.shift();
    if (typeof next === 'function') return next();
    return next ?? { kind: 'status', status: 500, errorType: 'api_error', message: 'script exhausted' };
  });
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

it('a failed task shows one failure card with Retry; the list row gives the reason', async () => {
  const { page } = rig!.b;
  const { td } = rig!;
  queue.push({ kind: 'status', status: 400, errorType: 'invalid_request_error', message: 'scripted refusal' });
  await page.goto(`${td.url}/#new`);
  await page.getByRole('textbox', { name: 'Message' }).fill('Summarise the sales figures');
  await page.getByRole('button', { name: 'Send' }).click();
  const group = page.locator('.task-group').last();
  await group.locator('.chip-failed').waitFor({ timeout: 20_000 });
  const card = group.getByRole('region', { name: 'Task failed' });
  expect(await card.count()).toBe(1);
  // In plain words: the service by the name people know, not "the model API".
  expect(await card.locator('.reason').innerText()).toBe("Claude's service refused the request.");
  // One Retry, inside the card, and it is the primary action.
  expect(await group.getByRole('button', { name: 'Retry task' }).count()).toBe(1);
  const retry = card.getByRole('button', { name: 'Retry task' });
  expect(await retry.getAttribute('class')).toContain('primary');
  // The API's own words are a tap away, not in the sentence.
  await card.getByText('Details').click();
  // The host's own sentence stays there, word for word.
  await card.getByText(/^The model API refused the request \(400\): scripted refusal/).waitFor();
  await shot(page, 'failure-card');

  await page.getByRole('button', { name: 'Back to threads' }).click();
  const row = page.locator('.thread-row', { hasText: 'Summarise' });
  await expect
    .poll(() => row.locator('.row-line').innerText(), { timeout: 10_000 })
    .toBe("Claude's service refused the request.");
  await row.click();

  queue.push(reply(text('Second try worked.')));
  await page.locator('.task-group').last().getByRole('button', { name: 'Retry task' }).click();
  await page.getByText('Second try worked.').waitFor({ timeout: 20_000 });
  await page.locator('.task-group').last().locator('.chip-done').waitFor({ timeout: 10_000 });
  expect(await page.getByRole('region', { name: 'Task failed' }).count()).toBe(0);
}, 60_000);

it('a retry notice shows while the call is retried and goes away when the task ends', async () => {
  const { page } = rig!.b;
  const { td, model } = rig!;
  let open!: () => void;
  const gate = new Promise<void>((r) => {
    open = r;
  });
  queue.push(
    { kind: 'status', status: 529, errorType: 'overloaded_error', message: 'busy', retryAfter: 0 },
    async () => {
      await gate;
      return reply(text('Answer after the retry.'));
    },
  );
  const notice = page.locator('.item-notice');
  try {
    const before = model.requests.length;
    await page.goto(`${td.url}/#new`);
    await page.getByRole('textbox', { name: 'Message' }).fill('Try even if busy');
    await page.getByRole('button', { name: 'Send' }).click();
    await notice.first().waitFor({ timeout: 20_000 });
    // The retried request has reached the model: the notice is still there while the task runs.
    await model.waitForRequests(before + 2, 20_000);
    expect(await notice.count()).toBe(1);
    await shot(page, 'failure-retry-notice');
  } finally {
    open();
  }
  await page.getByText('Answer after the retry.').waitFor({ timeout: 20_000 });
  await page.locator('.task-group').last().locator('.chip-done').waitFor({ timeout: 10_000 });
  await expect.poll(() => notice.count(), { timeout: 10_000 }).toBe(0);
  expect(await page.getByRole('region', { name: 'Task failed' }).count()).toBe(0);
}, 60_000);
