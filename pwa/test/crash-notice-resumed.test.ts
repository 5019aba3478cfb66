// After a crash the computer writes into the thread, for good: "Errand stopped unexpectedly while this
// task was running. Resume it to continue from its last checkpoint." Once the task was resumed and
// finished (or a later message ran, so Resume is no longer offered) the phone still told the person to
// resume it. Now the instruction shows only while Resume is there; the fact stays. A real daemon
// process, killed with SIGKILL mid-answer and started again.
import fs from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnDaemon } from '../../daemon/test/helpers/cli.js';
import { startTestDaemon } from '../../daemon/test/helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text } from '../../daemon/test/helpers/model-server.js';
import { WsTestClient } from '../../daemon/test/helpers/ws-client.js';
import type { ThreadItem } from '../../shared/src/index.js';
import { type Browser, ensureBuilt, launch, lowContrast, pairThroughUi, shot, tooSmall } from './helpers/browser.js';

const FACT = 'Errand stopped unexpectedly while this task was running.';
const INSTRUCTION = 'Resume it to continue from its last checkpoint.';

describe('the crash notice in a thread', () => {
  let model: ModelServer;
  let b: Browser;
  let home: string;
  let port: number;
  let token: string;
  let daemon: Awaited<ReturnType<typeof spawnDaemon>> | undefined;
  const env = () => ({ ERRAND_HOME: home, ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: model.url });

  beforeAll(async () => {
    await ensureBuilt();
    model = await startModelServer();
    port = await freePort();
    // Paired through the UI with an in-process daemon, which then hands the home to a real process.
    const td = await startTestDaemon({ config: { port } });
    home = td.home;
    b = await launch();
    await pairThroughUi(b.page, td, 'Crash notice phone');
    token = (await td.pairDevice('Checker')).token;
    await td.stop();
    daemon = await spawnDaemon(env(), port);
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    await model?.close();
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  /** The crash notices the computer keeps for the thread (the view shows them; they are never rewritten). */
  async function storedCrashNotices(threadId: string): Promise<string[]> {
    const c = await WsTestClient.open(`http://127.0.0.1:${port}`, token);
    try {
      const r = await c.send<{ items: ThreadItem[] }>({ type: 'thread.get', threadId });
      return r.items.flatMap((i) => (i.kind === 'notice' && i.text.startsWith(FACT.slice(0, -1)) ? [i.text] : []));
    } finally {
      c.close();
    }
  }

  /** Stream an answer, and kill the computer while it streams; it starts again at once. */
  async function crashMidAnswer(page: Page, message: string, marker: string): Promise<string> {
    model.push({
      content: [text(`${marker} ${Array.from({ length: 120 }, (_, i) => `w${i}`).join(' ')}`)],
      chunkDelayMs: 40,
    });
    await page.getByRole('textbox', { name: 'Message' }).fill(message);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByText(new RegExp(`${marker} w0 w1 .* w10`)).waitFor({ timeout: 20_000 });
    const threadId = new URLSearchParams(new URL(page.url()).hash.slice(1)).get('thread')!;
    daemon!.child.kill('SIGKILL');
    await daemon!.exited;
    daemon = await spawnDaemon(env(), port);
    return threadId;
  }

  const notices = (page: Page) => page.locator('.task-group .item-notice').allInnerTexts();

  it('tells to resume while Resume is offered, and only what happened once the task was resumed', async () => {
    const { page } = b;
    await page.reload();
    await page.getByRole('button', { name: 'New task' }).click();
    const threadId = await crashMidAnswer(page, 'Stream a long answer', 'FIRST');

    await page.locator('.chip-interrupted').first().waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Resume task' }).waitFor();
    await expect.poll(() => notices(page)).toEqual([`${FACT} ${INSTRUCTION}`]);

    model.push(reply(text('RESUMED answer.')));
    await page.getByRole('button', { name: 'Resume task' }).click();
    await page.getByText('RESUMED answer.').waitFor({ timeout: 20_000 });
    await page.locator('.task-group .chip-done').waitFor({ timeout: 10_000 });
    // Done: no Resume, and no word telling to resume; what happened is still there.
    await expect.poll(() => notices(page)).toEqual([FACT]);
    expect(await page.getByText(INSTRUCTION).count()).toBe(0);
    // The computer's record is as it was written: the view says what holds now.
    expect(await storedCrashNotices(threadId)).toEqual([`${FACT} ${INSTRUCTION}`]);

    for (const size of [
      { width: 320, height: 568 },
      { width: 360, height: 640 },
    ])
      for (const colorScheme of ['light', 'dark'] as const) {
        await page.setViewportSize(size);
        await page.emulateMedia({ colorScheme });
        const where = `${size.width} ${colorScheme}`;
        const sideways = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
        expect({ where, sideways, small: await tooSmall(page), low: await lowContrast(page) }).toEqual({
          where,
          sideways: 0,
          small: [],
          low: [],
        });
        await shot(page, `crash-notice-resumed-${size.width}-${colorScheme}`);
      }
    await page.setViewportSize({ width: 360, height: 640 });
    await page.emulateMedia({ colorScheme: 'light' });
  }, 120_000);

  it('does not tell to resume a task a later message has gone past', async () => {
    const { page } = b;
    await crashMidAnswer(page, 'Another long one', 'CUT');
    const cut = page.locator('.task-group').last();
    await cut.locator('.chip-interrupted').waitFor({ timeout: 30_000 });
    await cut.getByText(`${FACT} ${INSTRUCTION}`).waitFor();

    model.push(reply(text('LATER answer.')));
    await page.getByRole('textbox', { name: 'Message' }).fill('Something else');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByText('LATER answer.').waitFor({ timeout: 20_000 });
    const interrupted = page.locator('.task-group', { has: page.locator('.chip-interrupted') });
    await interrupted.getByText('A later message has run since').waitFor({ timeout: 10_000 });
    expect(await interrupted.getByRole('button', { name: 'Resume task' }).count()).toBe(0);
    await expect.poll(() => interrupted.locator('.item-notice').allInnerTexts()).toEqual([FACT]);
    expect(await page.getByText(INSTRUCTION).count()).toBe(0);
  }, 120_000);
});
