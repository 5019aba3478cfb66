// The obvious box answers: while the agent waits on a question, what the person types into the
// bottom box answers it (no task is queued behind the waiting one), and the thread's chip shows
// "waiting" as the most urgent state.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { type PhoneRig, shot, startPhoneRig } from './helpers/browser.js';

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Question phone');
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

it('typing into the bottom box while a question is open answers it and the task finishes', async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  model.push(
    reply(toolUse('ask_user', { question: 'Which folder should I tidy?' })),
    reply(text('Tidied Downloads as you asked.')),
  );
  await page.goto(`${td.url}/#`);
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Tidy a folder');
  await page.getByRole('button', { name: 'Send' }).click();
  const q = page.getByRole('form', { name: 'Question from your computer' });
  await q.getByText('Which folder should I tidy?').waitFor({ timeout: 15_000 });

  // The header's chip shows the thread is waiting for the person.
  await page.locator('header.top .chip-waiting').waitFor({ timeout: 10_000 });
  const box = page.getByRole('textbox', { name: 'Reply to the question' });
  await box.waitFor();
  expect(await page.getByRole('textbox', { name: 'Message' }).count()).toBe(0);
  // One way to stop the task while it waits: the composer's Stop (as while an approval waits), not
  // also the task's Cancel under the question.
  await page.getByRole('button', { name: 'Stop the task' }).waitFor();
  expect(await page.getByRole('button', { name: /Cancel task/ }).count()).toBe(0);
  await shot(page, 'journey-question-bottom-box');
  await box.fill('Downloads');
  await page.getByRole('button', { name: 'Reply', exact: true }).click();

  await page.getByText('Tidied Downloads as you asked.').waitFor({ timeout: 15_000 });
  await expect.poll(() => q.count()).toBe(0);
  expect(JSON.stringify(model.requests.at(-1)?.body.messages)).toContain('Downloads');
  // The question and the answer stay in the conversation where they happened.
  const group = page.locator('.task-group').first();
  await group.locator('.asked-q', { hasText: 'Which folder should I tidy?' }).waitFor();
  expect(await group.locator('.asked .msg-user').innerText()).toBe('Downloads');
  // One task in the thread: the answer did not queue another one.
  expect(await page.locator('.task-group').count()).toBe(1);
  await page.locator('.task-group .chip-done').waitFor({ timeout: 10_000 });
  // With the question gone, the bottom box sends messages again.
  await page.getByRole('textbox', { name: 'Message' }).waitFor();
});

it('an answer typed in the question card survives leaving the thread and coming back', async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  model.push(reply(toolUse('ask_user', { question: 'Which report?' })), reply(text('Sent the Q3 report.')));
  await page.goto(`${td.url}/#`);
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Send a report');
  await page.getByRole('button', { name: 'Send' }).click();
  const q = page.getByRole('form', { name: 'Question from your computer' });
  await q.getByText('Which report?').waitFor({ timeout: 15_000 });
  await q.getByRole('textbox', { name: 'Your answer' }).fill('The Q3 one');
  await page.getByRole('button', { name: 'Back to threads' }).click();
  await page.getByRole('button', { name: 'New task' }).waitFor();
  await page.getByText('Send a report').first().click();
  await q.getByText('Which report?').waitFor({ timeout: 10_000 });
  expect(await q.getByRole('textbox', { name: 'Your answer' }).inputValue()).toBe('The Q3 one');
  await q.getByRole('button', { name: 'Send answer' }).click();
  await page.getByText('Sent the Q3 report.').waitFor({ timeout: 15_000 });
});
