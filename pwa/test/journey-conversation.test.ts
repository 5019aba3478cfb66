// The conversation as a person uses it on a phone: a "Thinking…" state before the first words, a Stop
// button in the composer while a task works, "Jump to latest" after scrolling up (and a sent message
// always brought into view), and drafts kept per thread across navigation and a reload.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { type PhoneRig, shot, startPhoneRig } from './helpers/browser.js';

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Conversation phone');
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

it('shows Thinking before the first words, and Stop in the composer ends the working task', async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  model.push({ kind: 'hang' });
  await page.goto(`${td.url}/#`);
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Think about it for a while');
  await page.getByRole('button', { name: 'Send' }).click();
  // The model holds the request open: the phone says the computer is thinking.
  await expect.poll(() => model.openRequests(), { timeout: 15_000 }).toBe(1);
  await page.getByRole('status').filter({ hasText: 'Thinking…' }).waitFor({ timeout: 10_000 });
  const stop = page.getByRole('button', { name: 'Stop the task' });
  await stop.waitFor();
  await shot(page, 'journey-thinking-stop');
  await stop.click();
  await page.locator('.task-group .chip-cancelled').waitFor({ timeout: 10_000 });
  await expect.poll(() => page.getByRole('button', { name: 'Stop the task' }).count()).toBe(0);
  expect(await page.getByText('Thinking…').count()).toBe(0);
  await expect.poll(() => model.openRequests(), { timeout: 10_000 }).toBe(0);
});

it('a long thread offers Jump to latest when scrolled up, and a sent message is brought into view', async () => {
  const { page } = rig!.b;
  const { model } = rig!;
  // One long answer fills more than a screen.
  const long = Array.from({ length: 80 }, (_, i) => `Line ${i + 1} of a long answer.`).join('\n\n');
  model.push(reply(text(long)));
  await page.getByRole('button', { name: 'Back to threads' }).click();
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Write a lot');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('Line 80 of a long answer.').waitFor({ timeout: 15_000 });
  await page.locator('.task-group .chip-done').waitFor({ timeout: 10_000 });
  const log = page.getByRole('log', { name: 'Conversation' });
  const distanceFromBottom = () => log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
  await expect.poll(distanceFromBottom).toBeLessThan(80);
  expect(await page.getByRole('button', { name: 'Jump to latest ↓' }).count()).toBe(0);

  await log.evaluate((el) => el.scrollTo({ top: 0 }));
  const jump = page.getByRole('button', { name: 'Jump to latest ↓' });
  await jump.waitFor();
  await shot(page, 'journey-jump-to-latest');
  await jump.click();
  await expect.poll(distanceFromBottom).toBeLessThan(80);
  await expect.poll(() => jump.count()).toBe(0);

  // The pill sits above the message box, at the usual text size and at 200 % (a taller composer).
  const composer = page.getByRole('form', { name: 'Compose' });
  for (const size of ['', '200%']) {
    await page.evaluate((s) => {
      document.documentElement.style.fontSize = s;
    }, size);
    await log.evaluate((el) => el.scrollTo({ top: 0 }));
    await jump.waitFor();
    const pill = (await jump.boundingBox())!;
    const box = (await composer.boundingBox())!;
    expect(pill.y + pill.height).toBeLessThanOrEqual(box.y + 1);
    expect(pill.y).toBeGreaterThanOrEqual((await log.boundingBox())!.y);
    // Its words are whole (at 200 % it was cut to "Jump to late…").
    expect(await jump.evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0);
    if (size) {
      // The header's title gets the room the empty right side held (about half the width was left).
      const title = (await page.locator('header.top h1').boundingBox())!;
      expect(title.width).toBeGreaterThan(240);
      await shot(page, 'journey-jump-to-latest-200-percent');
    }
    await jump.click();
    await expect.poll(distanceFromBottom).toBeLessThan(80);
    await expect.poll(() => jump.count()).toBe(0);
  }
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '';
  });

  // Scrolled up again, the person sends a follow-up: it comes into view.
  await log.evaluate((el) => el.scrollTo({ top: 0 }));
  await jump.waitFor();
  model.push(reply(text('Short reply.')));
  await page.getByRole('textbox', { name: 'Message' }).fill('And one more thing');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('And one more thing').waitFor();
  await expect.poll(distanceFromBottom).toBeLessThan(80);
  await page.getByText('Short reply.').waitFor({ timeout: 15_000 });
});

it('keeps a draft per thread across navigation and a reload; sending clears it', async () => {
  const { page } = rig!.b;
  const { td } = rig!;
  const threadUrl = page.url();
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill('Half-written follow-up');
  await page.getByRole('button', { name: 'Back to threads' }).click();
  // Another thread's composer starts from its own (empty) draft.
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('A new task draft');
  await page.getByRole('button', { name: 'Back to threads' }).click();
  await page.goto(threadUrl);
  await expect.poll(() => page.getByRole('textbox', { name: 'Message' }).inputValue()).toBe('Half-written follow-up');
  // Across a restart of the app.
  await page.reload();
  await expect.poll(() => page.getByRole('textbox', { name: 'Message' }).inputValue()).toBe('Half-written follow-up');
  await page.goto(`${td.url}/#`);
  await page.getByRole('button', { name: 'New task' }).click();
  await expect.poll(() => page.getByRole('textbox', { name: 'Message' }).inputValue()).toBe('A new task draft');
  // Sent: the draft is gone.
  rig!.model.push(reply(text('On it.')));
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('On it.').waitFor({ timeout: 15_000 });
  await page.getByRole('button', { name: 'Back to threads' }).click();
  await page.getByRole('button', { name: 'New task' }).click();
  await expect.poll(() => page.getByRole('textbox', { name: 'Message' }).inputValue()).toBe('');
});

it('a thread opened with an approval waiting starts at the card, its expiry in view; streaming is announced once', async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  const long = Array.from({ length: 60 }, (_, i) => `Paragraph ${i + 1}.`).join('\n\n');
  model.push(reply(text(long)));
  await page.goto(`${td.url}/#`);
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('A long one, then a command');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('Paragraph 60.').waitFor({ timeout: 15_000 });
  const log = page.getByRole('log', { name: 'Conversation' });
  await expect.poll(() => log.getAttribute('aria-busy')).toBe('false');
  const threadUrl = page.url();

  model.push(reply(toolUse('shell', { argv: ['make', 'deploy'] })), reply(text('Deployed.')));
  await page.getByRole('textbox', { name: 'Message' }).fill('Now deploy');
  await page.getByRole('button', { name: 'Send' }).click();
  const card = page.getByRole('region', { name: /Approval needed/ });
  await card.waitFor({ timeout: 15_000 });
  await page.getByRole('button', { name: 'Back to threads' }).click();
  await page.goto(threadUrl);
  await card.waitFor();
  const timer = card.getByRole('timer');
  // The card's top and its expiry are on screen without scrolling.
  const inView = async (loc: typeof card) => {
    const box = await loc.boundingBox();
    const logBox = await log.boundingBox();
    return !!box && !!logBox && box.y >= logBox.y - 1 && box.y + box.height <= logBox.y + logBox.height + 1;
  };
  await expect
    .poll(() => card.boundingBox().then(async (b) => !!b && b.y >= ((await log.boundingBox())?.y ?? 0) - 1))
    .toBe(true);
  await expect.poll(() => inView(timer)).toBe(true);
  await shot(page, 'journey-approval-on-open');
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.getByText('Deployed.').waitFor({ timeout: 15_000 });
});

it('a retry notice shows while the task retries and is gone once it has ended', async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  model.push({ kind: 'status', status: 529 }, reply(text('Answered after a retry.')));
  await page.goto(`${td.url}/#`);
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Try until it works');
  await page.getByRole('button', { name: 'Send' }).click();
  const notice = page.locator('.item-notice', { hasText: 'busy' });
  await notice.waitFor({ timeout: 15_000 });
  await page.getByText('Answered after a retry.').waitFor({ timeout: 15_000 });
  await page.locator('.task-group .chip-done').waitFor();
  await expect.poll(() => notice.count()).toBe(0);
});
