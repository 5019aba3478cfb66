// The everyday flows on a phone-sized Chromium against the real daemon and a scripted model:
// send a task, watch it stream, approve a shell call, read the result file, undo; cancel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../daemon/test/helpers/daemon.js';
import { type ModelServer, reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import {
  type Browser,
  cspViolations,
  type PhoneRig,
  pairThroughUi,
  readKv,
  shot,
  startPhoneRig,
  unnamedControls,
} from './helpers/browser.js';

const REPORT =
  '# Q3 report\n\nSales **rose** in the north.\n\n| Region | Sales |\n|---|---|\n| North | 10 |\n| South | 7 |\n';
const FINAL =
  'Done: the report is written to report.md and the folder was listed. ' +
  'Every region is covered in the table. '.repeat(8);

describe('tasks from the phone', () => {
  let model: ModelServer;
  let td: TestDaemon;
  let b: Browser;
  let rig: PhoneRig | undefined;
  beforeAll(async () => {
    rig = await startPhoneRig('Flow phone');
    ({ model, td, b } = rig);
  }, 120_000);
  afterAll(async () => {
    await rig?.close();
  });

  it('sends a task, streams the reply, approves a shell call, shows done', async () => {
    const { page } = b;
    model.push(
      reply(text('I will write the report first.'), toolUse('fs_write', { path: 'report.md', content: REPORT })),
      reply(toolUse('shell', { argv: ['ls', '-la'] })),
      { content: [text(FINAL)], chunkDelayMs: 15 },
    );
    await page.getByRole('button', { name: 'New task' }).click();
    await page.getByRole('textbox', { name: 'Message' }).fill('Write the Q3 performance report');
    await shot(page, '10-new-task');
    await page.getByRole('button', { name: 'Send' }).click();

    // The approval card names the exact action, counts down, and offers the three choices.
    const card = page.getByRole('region', { name: /Approval needed/ });
    await card.waitFor({ timeout: 20_000 });
    // One plain sentence, the command on one line, the sandbox as a badge; the exact action behind Details.
    await expect
      .poll(() => card.locator('.approval-summary').innerText())
      .toMatch(/^Your computer wants to run a command in workspace\.$/);
    expect(await card.getByLabel('Command').innerText()).toBe('ls -la');
    expect(await card.locator('.badge').innerText()).toMatch(/^(Sandboxed|Not sandboxed)$/);
    expect(await card.locator('.approval-action').isVisible()).toBe(false);
    await card.getByText('Details').click();
    await expect.poll(() => card.locator('.approval-action').innerText()).toContain('"ls"');
    // The task's Cancel is not beside Deny while the card waits (Stop is in the composer).
    expect(await page.getByRole('button', { name: 'Cancel task' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Stop the task' }).waitFor();
    expect(await card.getByRole('timer').innerText()).toMatch(/^Expires in \d+:\d\d$/);
    await page.getByRole('button', { name: 'Allow for this task' }).waitFor();
    await page.getByRole('button', { name: 'Deny' }).waitFor();
    // The file tool ran without asking and shows as a compact row that expands.
    // Named by what it did, not by the tool's internal name.
    const toolRow = page.getByRole('button', { name: /^Created report\.md, done\./ });
    expect(await page.locator('.tool-head', { hasText: 'fs_write' }).count()).toBe(0);
    await toolRow.click();
    await expect.poll(() => page.locator('.tool-body pre').first().innerText()).toContain('report.md');
    await toolRow.click();
    await shot(page, '11-approval');
    await page.getByRole('button', { name: 'Approve' }).click();

    // The final reply streams in: seen partially before it is complete.
    const last = page.locator('.msg-assistant').last();
    await page.waitForFunction(
      (full) => {
        const els = document.querySelectorAll('.msg-assistant');
        const t = els[els.length - 1]?.textContent ?? '';
        return t.startsWith('Done: the report') && t.length < full.length;
      },
      FINAL,
      { timeout: 20_000, polling: 20 },
    );
    await shot(page, '12-streaming');
    await page.locator('.task-footer .chip-done').waitFor({ timeout: 20_000 });
    expect((await last.innerText()).trim()).toBe(FINAL.trim());
    // Tokens and cost are one tap away, under "Usage".
    const usage = page.locator('.task-footer .usage');
    expect(await usage.isVisible()).toBe(false);
    await page.locator('.task-footer summary', { hasText: 'Usage' }).click();
    expect(await usage.innerText()).toMatch(/^[\d.]+k? in · \d+ out tokens · (<)?\$\d/);
    await shot(page, '13-done');
    expect(await unnamedControls(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, '13-done-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    // Large text (the browser's default font size at 24 px instead of 16): sizes are in rem, so
    // everything grows, and nothing forces sideways scrolling on a 360 px screen.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Page.setFontSizes', { fontSizes: { standard: 24, fixed: 20 } });
    await expect
      .poll(() => page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize)))
      .toBe(24);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await shot(page, '13-done-large-text');
    await cdp.send('Page.setFontSizes', { fontSizes: { standard: 16, fixed: 13 } });
    await cdp.detach();
  });

  it('denies one call, and allows a command for the rest of its task', async () => {
    const { page } = b;
    model.push(
      reply(toolUse('shell', { argv: ['rm', '-rf', 'build'] })),
      reply(text('Understood, I will not delete it.')),
    );
    await page.goto(`${td.url}/#`);
    await page.getByRole('button', { name: 'New task' }).click();
    await page.getByRole('textbox', { name: 'Message' }).fill('Clean up');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('region', { name: /Approval needed: Run rm -rf build/ }).waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.getByText('Understood, I will not delete it.').waitFor({ timeout: 15_000 });
    await expect.poll(() => page.getByRole('region', { name: /Approval needed/ }).count()).toBe(0);
    expect(await page.locator('.tool-denied').count()).toBe(1);

    model.push(
      reply(toolUse('shell', { argv: ['echo', 'one'] })),
      reply(toolUse('shell', { argv: ['echo', 'one'] })),
      reply(text('Ran it twice.')),
    );
    await page.getByRole('textbox', { name: 'Message' }).fill('Echo twice');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByRole('region', { name: /Approval needed: Run echo one/ }).waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Allow for this task' }).click();
    // The second, identical call of the same task runs without asking again.
    await page.getByText('Ran it twice.').waitFor({ timeout: 15_000 });
    const last = page.locator('.task-group').last();
    expect(await last.locator('.tool-completed').count()).toBe(2);
    expect(await page.getByRole('region', { name: /Approval needed/ }).count()).toBe(0);
  });

  it('an approval nobody answers expires visibly', async () => {
    // A second host with three-second approvals, paired from a second tab (another origin).
    const quick = await startTestDaemon({
      env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: model.url },
      config: { shell: { sandbox: 'off' }, approvals: { expireMinutes: 0.05 } },
    });
    const page = await b.context.newPage();
    try {
      await pairThroughUi(page, quick, 'Expiry phone');
      model.push(
        reply(toolUse('shell', { argv: ['make', 'deploy'] })),
        reply(text('The approval expired, so I did not deploy.')),
      );
      await page.getByRole('button', { name: 'New task' }).click();
      await page.getByRole('textbox', { name: 'Message' }).fill('Deploy');
      await page.getByRole('button', { name: 'Send' }).click();
      const card = page.getByRole('region', { name: /Approval needed: Run make deploy/ });
      await card.waitFor({ timeout: 15_000 });
      const timer = card.getByRole('timer');
      expect(await timer.innerText()).toMatch(/^Expires in 0:0[0-3]$/);
      // Expired, the card goes (as from every phone) and the step says what became of it.
      await page
        .locator('.tool-denied', { hasText: 'Run make deploy: nobody approved it in time' })
        .waitFor({ timeout: 10_000 });
      await page.getByText('The approval expired, so I did not deploy.').waitFor({ timeout: 15_000 });
      expect(await card.count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Approve', exact: true }).count()).toBe(0);
    } finally {
      await page.close();
      await quick.stop();
    }
  });

  it('cancels a running task at once', async () => {
    const { page } = b;
    model.push({ kind: 'hang', afterHeaders: true });
    await page.goto(`${td.url}/#`);
    const rows = page.locator('.thread-row');
    await rows.first().waitFor();
    const before = await rows.count();
    await page.getByRole('button', { name: 'New task' }).click();
    await page.getByRole('textbox', { name: 'Message' }).fill('Something long');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('.task-footer .chip-running').waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Cancel task' }).click();
    await page.locator('.task-footer .chip-cancelled').waitFor({ timeout: 5000 });
    await page.getByRole('button', { name: 'Retry task' }).waitFor();
    await expect.poll(() => model.openRequests()).toBe(0);

    // The list shows the new thread first, with its latest state.
    await page.getByRole('button', { name: 'Back to threads' }).click();
    await expect.poll(() => rows.count()).toBe(before + 1);
    await rows.first().locator('.chip-cancelled').waitFor();
    await shot(page, '16-threads');
    expect(await unnamedControls(page)).toEqual([]);
    // Everything so far ran under the daemon's strict CSP without a single violation.
    const res = await fetch(`${td.url}/`);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await cspViolations(page)).toEqual([]);
  });

  it('answers a question from the agent, and retries a failed task', async () => {
    const { page } = b;
    model.push(
      reply(toolUse('ask_user', { question: 'Which quarter should I use?' })),
      reply(text('Using Q3 as you said.')),
    );
    await page.goto(`${td.url}/#`);
    await page.getByRole('button', { name: 'New task' }).click();
    await page.getByRole('textbox', { name: 'Message' }).fill('Make the sales chart');
    await page.getByRole('button', { name: 'Send' }).click();
    const q = page.getByRole('form', { name: 'Question from your computer' });
    await q.getByText('Which quarter should I use?').waitFor({ timeout: 15_000 });
    await shot(page, '18-question');
    await q.getByRole('textbox', { name: 'Your answer' }).fill('Q3 please');
    await q.getByRole('button', { name: 'Send answer' }).click();
    await page.getByText('Using Q3 as you said.').waitFor({ timeout: 15_000 });
    await expect.poll(() => q.count()).toBe(0);
    expect(JSON.stringify(model.requests.at(-1)?.body.messages)).toContain('Q3 please');

    // A task that fails says why and can be retried from the phone.
    model.push(
      { kind: 'status', status: 400, errorType: 'invalid_request_error', message: 'scripted refusal' },
      reply(text('Second try worked.')),
    );
    await page.getByRole('textbox', { name: 'Message' }).fill('Now the table');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('.task-group').last().locator('.chip-failed').waitFor({ timeout: 15_000 });
    await page.locator('.task-group').last().locator('.reason').waitFor();
    await shot(page, '19-failed');
    // The thread list says why it failed (what to do next), not the prompt it failed on.
    const reason = (await page.locator('.task-group').last().locator('.reason').innerText()).split('\n')[0].trim();
    await page.getByRole('button', { name: 'Back to threads' }).click();
    const row = page.locator('.thread-row', { hasText: 'Make the sales chart' });
    await expect.poll(() => row.locator('.row-line').innerText()).toBe(reason.slice(0, 160));
    await row.click();
    await page.locator('.task-group').last().getByRole('button', { name: 'Retry task' }).click();
    await page.getByText('Second try worked.').waitFor({ timeout: 15_000 });
    await page.locator('.task-group').last().locator('.chip-done').waitFor();
  });

  it('marks threads with news as unread until opened', async () => {
    const { page } = b;
    // Start a task from another device while the phone looks at the list.
    const other = await td.connect();
    await page.goto(`${td.url}/#`);
    const rows = page.locator('.thread-row');
    const before = await rows.count();
    model.push(reply(text('Answer for the laptop.')));
    const created = await other.send<{ thread: { id: string } }>({
      type: 'thread.create',
      text: 'Task from the laptop',
    });
    const row = page.locator('.thread-row', { hasText: 'Task from the laptop' });
    await row.locator('.chip-done').waitFor({ timeout: 15_000 });
    expect(await rows.count()).toBe(before + 1);
    await expect.poll(() => row.getAttribute('aria-label')).toMatch(/, unread$/);
    await shot(page, '16b-threads-unread');
    await row.click();
    await page.getByText('Answer for the laptop.').waitFor();
    expect(new URL(page.url()).hash).toBe(`#thread=${created.thread.id}`);
    // The phone tells the host which thread it shows (for push suppression), and when it stops.
    const me = (await readKv<{ deviceId: string }>(page, 'auth'))!.deviceId;
    await expect.poll(() => td.daemon.gateway.viewing(me, created.thread.id)).toBe(true);
    await page.getByRole('button', { name: 'Back to threads' }).click();
    await expect.poll(() => td.daemon.gateway.viewing(me, created.thread.id)).toBe(false);
    await expect.poll(() => row.getAttribute('aria-label')).toBe('Task from the laptop');
    other.close();
  });
});
