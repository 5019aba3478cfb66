// On the phone: an answer typed in the obvious box, or Approve tapped, while the computer is
// unreachable waits like a message ("Waiting for your computer") and goes out once when it is back;
// no "Can't reach your computer" error stays once it is. A decided approval leaves no record only this
// phone has. "Jump to latest" stays one line at 200 % text.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { lowContrast, type PhoneRig, shot, startPhoneRig, tooSmall } from './helpers/browser.js';

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Offline responses phone');
}, 120_000);
afterAll(async () => {
  await rig?.b.context.setOffline(false).catch(() => undefined);
  await rig?.close();
});

const banner = () => rig!.b.page.locator('.banner-offline');

async function goOffline(): Promise<void> {
  await rig!.b.context.setOffline(true);
  await banner().waitFor({ timeout: 15_000 });
}

async function goOnline(): Promise<void> {
  await rig!.b.context.setOffline(false);
  await banner().waitFor({ state: 'detached', timeout: 20_000 });
}

async function newTask(message: string): Promise<void> {
  const { page } = rig!.b;
  await page.goto(`${rig!.td.url}/#new`);
  await page.getByRole('textbox', { name: 'Message' }).fill(message);
  await page.getByRole('button', { name: 'Send' }).click();
}

it('an answer typed in the message box while offline waits, and is sent once when the computer is back', async () => {
  const { page } = rig!.b;
  const { model } = rig!;
  model.push(
    reply(toolUse('ask_user', { question: 'Which quarter should the report cover?' })),
    reply(text('Got the quarter.')),
  );
  const before = model.requests.length;
  await newTask('Write the quarterly report');
  const box = page.getByRole('textbox', { name: 'Reply to the question' });
  await box.waitFor({ timeout: 15_000 });

  await goOffline();
  await box.fill('The third one');
  await page.getByRole('button', { name: 'Reply', exact: true }).click();
  // Shown as waiting, under its question; the box sends messages again (no second answer to it).
  const card = page.getByRole('region', { name: 'Question from your computer' });
  await card.getByText('The third one').waitFor();
  await card.getByRole('status').filter({ hasText: 'Waiting for your computer' }).waitFor();
  await page.getByRole('textbox', { name: 'Message' }).waitFor();
  expect(await page.locator('.composer .error').count()).toBe(0);
  await shot(page, 'offline-answer-waiting');
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    expect({ scheme, low: await lowContrast(page) }).toEqual({ scheme, low: [] });
  }
  await page.emulateMedia({ colorScheme: null });

  await goOnline();
  await page.getByText('Got the quarter.').waitFor({ timeout: 20_000 });
  await page.locator('.task-group .chip-done').last().waitFor({ timeout: 10_000 });
  expect(model.requests.length - before).toBe(2);
  expect(JSON.stringify(model.requests.at(-1)?.body.messages).match(/The third one/g)).toHaveLength(1);
  // The question and its answer where they happened, once; one task, no error.
  const group = page.locator('.task-group').last();
  expect(await group.locator('.asked .msg-user').innerText()).toBe('The third one');
  expect(await page.getByText('The third one').count()).toBe(1);
  expect(await page.locator('.error').count()).toBe(0);
}, 90_000);

it('an answer written offline but answered on another device meanwhile is said in the thread', async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  model.push(reply(toolUse('ask_user', { question: 'Which folder should I tidy?' })), reply(text('Tidied Downloads.')));
  await newTask('Tidy a folder');
  const box = page.getByRole('textbox', { name: 'Reply to the question' });
  await box.waitFor({ timeout: 15_000 });
  const threadId = new URLSearchParams(new URL(page.url()).hash.slice(1)).get('thread')!;
  await goOffline();
  await box.fill('Desktop');
  await page.getByRole('button', { name: 'Reply', exact: true }).click();
  const other = await td.connect();
  try {
    const detail = await other.send<{ questions: Array<{ id: string; taskId: string }> }>({
      type: 'thread.get',
      threadId,
    });
    const q = detail.questions[0];
    await other.send({ type: 'task.answer', taskId: q.taskId, questionId: q.id, text: 'Downloads' });
  } finally {
    other.close();
  }
  await goOnline();
  await page.getByText('Tidied Downloads.').waitFor({ timeout: 20_000 });
  const note = page.locator('.refused-note');
  await note
    .filter({ hasText: 'Your answer “Desktop”:' })
    .filter({ hasText: /already answered/ })
    .waitFor();
  expect(await tooSmall(page)).toEqual([]);
  await shot(page, 'offline-answer-refused');
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    expect({ scheme, low: await lowContrast(page) }).toEqual({ scheme, low: [] });
  }
  await page.emulateMedia({ colorScheme: null });
  await note.getByRole('button', { name: 'Dismiss this note' }).click();
  await expect.poll(() => note.count()).toBe(0);
}, 90_000);

it('Approve tapped while offline waits, and is sent when the computer is back; no approval record stays', async () => {
  const { page } = rig!.b;
  const { model } = rig!;
  model.push(reply(toolUse('shell', { argv: ['echo', 'approved-offline'] })), reply(text('Ran the echo.')));
  await newTask('Echo something for me');
  const card = page.getByRole('region', { name: /Approval needed/ });
  await card.getByRole('button', { name: 'Approve' }).waitFor({ timeout: 15_000 });

  await goOffline();
  await card.getByRole('button', { name: 'Approve' }).click();
  await card.getByRole('status').filter({ hasText: 'Approve · Waiting for your computer' }).waitFor();
  expect(await card.getByRole('button', { name: 'Deny' }).count()).toBe(0);
  expect(await card.locator('.error').count()).toBe(0);
  expect(await tooSmall(page)).toEqual([]);
  await shot(page, 'offline-approve-waiting');
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    expect({ scheme, low: await lowContrast(page) }).toEqual({ scheme, low: [] });
  }
  await page.emulateMedia({ colorScheme: null });

  await goOnline();
  await page.getByText('Ran the echo.').waitFor({ timeout: 20_000 });
  await expect.poll(() => card.count()).toBe(0);
  // What a phone that opens this thread now sees: the step, no "Approved by" line only this phone has.
  expect(await page.getByText(/Approved by/).count()).toBe(0);
  const step = page.locator('.task-group').last().locator('.tool-completed');
  expect(await step.count()).toBe(1);
  expect(await page.locator('.error').count()).toBe(0);
}, 90_000);

it('a Stop tapped while offline says so, and the error goes once the computer is back', async () => {
  const { page } = rig!.b;
  const { model } = rig!;
  model.push({ kind: 'hang' });
  await newTask('Take your time');
  await expect.poll(() => model.openRequests(), { timeout: 15_000 }).toBe(1);
  const stop = page.getByRole('button', { name: 'Stop the task' });
  await stop.waitFor();
  await goOffline();
  await stop.click();
  const error = page.locator('.composer .error');
  await error.filter({ hasText: "Can't reach your computer right now. Try again when it's back." }).waitFor();
  await goOnline();
  await error.waitFor({ state: 'detached', timeout: 10_000 });
  await stop.click();
  await page.locator('.task-group .chip-cancelled').last().waitFor({ timeout: 10_000 });
}, 90_000);

it('"Jump to latest" stays one short line at 200 % text', async () => {
  const { page } = rig!.b;
  const { model } = rig!;
  model.push(reply(text(Array.from({ length: 80 }, (_, i) => `Line ${i + 1} of a long answer.`).join('\n\n'))));
  await newTask('Write a lot');
  await page.getByText('Line 80 of a long answer.').waitFor({ timeout: 15_000 });
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '200%';
  });
  try {
    await page.getByRole('log', { name: 'Conversation' }).evaluate((el) => el.scrollTo({ top: 0 }));
    const jump = page.getByRole('button', { name: 'Jump to latest ↓' });
    await jump.waitFor();
    const lines = await jump.evaluate((el) => {
      const range = document.createRange();
      range.selectNodeContents(el);
      return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    });
    expect(lines).toBe(1);
    await shot(page, 'jump-latest-200');
  } finally {
    await page.evaluate(() => {
      document.documentElement.style.fontSize = '';
    });
  }
}, 60_000);

/** A task that ended this way, as the computer keeps it. */
function endedTask(taskId: string, threadId: string, state: 'failed' | 'interrupted', reason: string, at: number) {
  return {
    id: taskId,
    threadId,
    state,
    reason,
    messageId: `u_${taskId}`,
    createdAt: at,
    startedAt: at,
    endedAt: at + 1,
    turns: 40,
    usage: { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 },
    costUsd: 0.01,
  };
}

it('a task stopped at its turn limit offers Continue and names the setting', async () => {
  const { page } = rig!.b;
  const { td } = rig!;
  const at = Date.now();
  const limited = await td.daemon.ctx.store.threads.create('Sort the photos', (d) => {
    d.items.push({ kind: 'user', id: 'u_klimit', taskId: 'klimit', text: 'Sort the photos', createdAt: at });
    d.tasks.push(endedTask('klimit', d.meta.id, 'failed', 'Stopped after 40 turns (limit: agent.maxTurns = 40).', at));
  });
  await page.goto(`${td.url}/#thread=${limited.meta.id}`);
  const card = page.getByRole('region', { name: 'Task failed' });
  await card.getByText('Stopped after 40 turns.').waitFor({ timeout: 15_000 });
  expect(await card.locator('.next-step').innerText()).toContain('agent.maxTurns in config.json');
  expect(await card.getByRole('button', { name: 'Continue task' }).innerText()).toBe('Continue');
  expect(await page.getByRole('button', { name: 'Retry task' }).count()).toBe(0);
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    expect({ scheme, low: await lowContrast(page) }).toEqual({ scheme, low: [] });
  }
  await page.emulateMedia({ colorScheme: null });
  await shot(page, 'limit-card-continue');
}, 60_000);

it('an interrupted task says why once', async () => {
  const { page } = rig!.b;
  const { td } = rig!;
  const at = Date.now();
  const crash = 'Errand stopped unexpectedly while this task was running';
  const cut = await td.daemon.ctx.store.threads.create('Tidy Downloads', (d) => {
    d.items.push({ kind: 'user', id: 'u_kcut', taskId: 'kcut', text: 'Tidy Downloads', createdAt: at });
    d.items.push({
      kind: 'notice',
      id: 'ntc_kcut',
      taskId: 'kcut',
      text: `${crash}. Resume it to continue from its last checkpoint.`,
      createdAt: at + 1,
    });
    d.tasks.push(endedTask('kcut', d.meta.id, 'interrupted', crash, at));
  });
  await page.goto(`${td.url}/#thread=${cut.meta.id}`);
  await page.getByRole('button', { name: 'Resume task' }).waitFor({ timeout: 15_000 });
  expect(await page.locator('.conversation').getByText(crash).count()).toBe(1);
}, 60_000);
