// A long tool output reaches the phone as a preview; "Show the whole output" fetches all of it
// (step.output) when the step is expanded, in a box that leaves the thread room to scroll on a small
// phone. Chromium against the real daemon and a scripted model.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../daemon/test/helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { type Browser, ensureBuilt, launch, pairThroughUi } from './helpers/browser.js';

let model: ModelServer;
let td: TestDaemon;
let b: Browser;
beforeAll(async () => {
  await ensureBuilt();
  model = await startModelServer();
  td = await startTestDaemon({
    env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: model.url },
    config: { shell: { sandbox: 'off', maxOutputBytes: 400_000 } },
  });
  b = await launch();
  await pairThroughUi(b.page, td, 'Output phone');
}, 120_000);
afterAll(async () => {
  await b?.close();
  await td?.stop();
  await model?.close();
});

it('shows a preview of a long output and fetches the whole of it on request', async () => {
  const { page } = b;
  model.push(
    reply(
      toolUse('shell', { argv: ['bash', '-c', 'head -c 150000 /dev/zero | tr "\\0" x; echo; echo DONE-$((40+2))'] }),
    ),
    reply(text('Read it all.')),
  );
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Print a lot');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('button', { name: 'Approve' }).click({ timeout: 20_000 });
  await page.getByText('Read it all.').waitFor({ timeout: 20_000 });

  await page.locator('.tool-head').first().click();
  const output = page.locator('.tool-body pre').nth(1);
  await expect.poll(async () => (await output.textContent())?.length ?? 0).toBeGreaterThan(1000);
  // The end (DONE-42, computed so the command line itself does not contain it) is past the preview.
  expect(await output.textContent()).not.toContain('DONE-42');
  const more = page.getByRole('button', { name: /^Show the whole output \(/ });
  await more.click();
  await expect.poll(async () => (await output.textContent()) ?? '').toContain('DONE-42');
  expect((await output.textContent())!.length).toBeGreaterThan(150_000);
  await expect.poll(() => more.count()).toBe(0);
});

it('on a 320x568 phone at 200 % text, the whole output scrolls in its box and the thread still scrolls around it', async () => {
  const { page } = b; // the thread of the test above, its output expanded in full
  const output = page.locator('.tool-body pre').nth(1);
  await expect.poll(async () => (await output.textContent()) ?? '').toContain('DONE-42');
  await page.setViewportSize({ width: 320, height: 568 });
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '200%';
  });
  try {
    const log = page.getByRole('log', { name: 'Conversation' });
    const [box, view] = await Promise.all([
      output.evaluate((el) => el.getBoundingClientRect().height),
      log.evaluate((el) => el.clientHeight),
    ]);
    // The box takes at most two thirds of the conversation's view: the rest is thread to scroll on.
    expect(box / view).toBeLessThan(2 / 3);
    expect(await output.evaluate((el) => el.scrollHeight > el.clientHeight)).toBe(true);
  } finally {
    await page.evaluate(() => {
      document.documentElement.style.fontSize = '';
    });
  }
});
