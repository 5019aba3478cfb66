// After the computer crashes mid-answer, the phone shows what the computer kept, not what it saw
// streaming: text streamed but never made durable is gone from the store, so it goes from the
// phone too once it reconnects, and stays gone after Resume. The notice about the interrupted
// task goes once it is resumed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnDaemon } from '../../daemon/test/helpers/cli.js';
import { startTestDaemon } from '../../daemon/test/helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text } from '../../daemon/test/helpers/model-server.js';
import { WsTestClient } from '../../daemon/test/helpers/ws-client.js';
import type { ThreadItem } from '../../shared/src/index.js';
import { type Browser, ensureBuilt, launch, pairThroughUi } from './helpers/browser.js';

describe('the phone after a crash mid-answer', () => {
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
    await pairThroughUi(b.page, td, 'Crash phone');
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
    const fs = await import('node:fs');
    if (home) fs.rmSync(home, { recursive: true, force: true });
  });

  async function storedAnswers(threadId: string): Promise<string[]> {
    const c = await WsTestClient.open(`http://127.0.0.1:${port}`, token);
    try {
      const r = await c.send<{ items: ThreadItem[] }>({ type: 'thread.get', threadId });
      return r.items.flatMap((i) => (i.kind === 'assistant' ? [i.text] : []));
    } finally {
      c.close();
    }
  }

  const shownAnswers = () => b.page.locator('.msg-assistant').evaluateAll((els) => els.map((e) => e.textContent ?? ''));

  it('drops text the computer never kept, before and after Resume', async () => {
    const { page } = b;
    await page.reload();
    await page.getByRole('button', { name: 'New task' }).click();
    const words = Array.from({ length: 150 }, (_, i) => `w${i}`).join(' ');
    model.push({ content: [text(`UNKEPT ${words} END.`)], chunkDelayMs: 40 });
    await page.getByRole('textbox', { name: 'Message' }).fill('Stream a long answer');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByText(/UNKEPT w0 w1 .* w20/).waitFor({ timeout: 20_000 });
    const threadId = new URLSearchParams(new URL(page.url()).hash.slice(1)).get('thread')!;

    daemon!.child.kill('SIGKILL');
    await daemon!.exited;
    await page.getByText("Can't reach your computer").waitFor({ timeout: 15_000 });
    daemon = await spawnDaemon(env(), port);

    await page.locator('.chip-interrupted').first().waitFor({ timeout: 30_000 });
    const stored = await storedAnswers(threadId);
    expect(stored.some((t) => t.includes('UNKEPT'))).toBe(false);
    await page.waitForFunction(
      () => ![...document.querySelectorAll('.msg-assistant')].some((e) => e.textContent?.includes('UNKEPT')),
      undefined,
      { timeout: 10_000 },
    );

    const crashNotice = page.getByText('interrupted because Errand stopped unexpectedly');
    await crashNotice.waitFor({ timeout: 10_000 });

    model.push(reply(text('RESUMED answer.')));
    await page.getByRole('button', { name: 'Resume task' }).click();
    await page.getByText('RESUMED answer.').waitFor({ timeout: 20_000 });
    // Nothing is interrupted any more: the notice saying so goes.
    await crashNotice.waitFor({ state: 'detached', timeout: 10_000 });
    expect((await shownAnswers()).some((t) => t.includes('UNKEPT'))).toBe(false);
    expect(await storedAnswers(threadId)).toEqual(
      (await shownAnswers()).map((t) => t.trim()).filter((t) => t.includes('RESUMED')),
    );
  }, 120_000);

  it('an interrupted task after which a later message ran offers no Resume that would fail', async () => {
    const { page } = b;
    model.push({
      content: [text(`CUT ${Array.from({ length: 100 }, (_, i) => `v${i}`).join(' ')}`)],
      chunkDelayMs: 40,
    });
    await page.getByRole('textbox', { name: 'Message' }).fill('Another long one');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByText(/CUT v0 v1 .* v10/).waitFor({ timeout: 20_000 });
    daemon!.child.kill('SIGKILL');
    await daemon!.exited;
    daemon = await spawnDaemon(env(), port);
    const cut = page.locator('.task-group').last();
    await cut.locator('.chip-interrupted').waitFor({ timeout: 30_000 });
    model.push(reply(text('LATER answer.')));
    await page.getByRole('textbox', { name: 'Message' }).fill('Something else');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByText('LATER answer.').waitFor({ timeout: 20_000 });
    const interrupted = page.locator('.task-group', { has: page.locator('.chip-interrupted') });
    await interrupted.getByText('A later message has run since').waitFor({ timeout: 10_000 });
    expect(await interrupted.getByRole('button', { name: 'Resume task' }).count()).toBe(0);
  }, 120_000);
});
