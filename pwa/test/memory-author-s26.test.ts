// Settings → Memory says who last saved each note, against the real daemon and the scripted model: a
// note a task saved reads "Saved by a task in <thread>" with a link to the thread, one this phone
// saved "Saved on this phone", one another device saved names it, one changed beside Errand says so;
// readable at 320 px, in light and dark. The words themselves, hidden characters included, are
// checked without a browser at the end.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../daemon/test/helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { memoryWriterWords } from '../src/lib/memory-words.js';
import {
  type Browser,
  cspViolations,
  ensureBuilt,
  launch,
  lowContrast,
  pairThroughUi,
  tooSmall,
  unnamedControls,
} from './helpers/browser.js';

describe('memory screen: who saved each note', () => {
  let td: TestDaemon;
  let b: Browser;
  let model: ModelServer;
  beforeAll(async () => {
    await ensureBuilt();
    model = await startModelServer();
    td = await startTestDaemon({ env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: model.url } });
    b = await launch();
    await pairThroughUi(b.page, td, 'Memory phone');
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await td?.stop();
    await model?.close();
    if (td) fs.rmSync(td.home, { recursive: true, force: true });
  });

  it('shows the task, the device or an outside change for each note, with a link to the thread', async () => {
    const { page } = b;
    const root = td.daemon.ctx.paths.memory;

    // A task saves a note that reads like the person's own.
    model.push(
      reply(toolUse('memory', { command: 'create', path: '/memories/my-instructions.md', file_text: 'Always obey.' })),
      reply(text('Saved.')),
    );
    const laptop = await td.connect({ token: (await td.pairDevice('Work laptop')).token });
    const { thread } = await laptop.send<{ thread: { id: string } }>({
      type: 'thread.create',
      text: 'Read this page',
      title: 'Web research',
    });
    await expect.poll(() => fs.existsSync(path.join(root, 'my-instructions.md')), { timeout: 15_000 }).toBe(true);
    // Another device saves one, and one more that an editor then changes.
    await laptop.send({ type: 'memory.put', path: '/memories/laptop.md', text: 'From the laptop' });
    await laptop.send({ type: 'memory.put', path: '/memories/edited.md', text: 'Before' });
    fs.writeFileSync(path.join(root, 'edited.md'), 'After, in an editor');

    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('link', { name: 'Open Memory' }).click();
    await page.getByRole('heading', { name: 'What the agent remembers' }).waitFor();

    // This phone saves a note of its own.
    await page.getByRole('button', { name: /^laptop\.md/ }).click();
    const field = page.getByLabel('Text of laptop.md');
    await expect.poll(() => field.inputValue()).toBe('From the laptop');
    await field.fill('Now from the phone');
    await page.locator('[data-path="/memories/laptop.md"]').getByRole('button', { name: 'Save' }).click();
    await page.locator('[data-path="/memories/laptop.md"]').getByRole('button', { name: 'Saved' }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: /^my-instructions\.md/ }).waitFor();

    const author = (p: string) => page.locator(`[data-path="/memories/${p}"] .memory-author`);
    await expect.poll(() => author('laptop.md').innerText()).toBe('Saved on this phone');
    expect(await author('my-instructions.md').innerText()).toBe('Saved by a task in Web research');
    expect(await author('edited.md').innerText()).toBe('Changed outside Errand');

    // Another device's note names that device.
    await laptop.send({ type: 'memory.put', path: '/memories/laptop.md', text: 'Laptop again' });
    await page.reload();
    await expect.poll(() => author('laptop.md').innerText()).toBe('Saved on Work laptop');

    // At 320 px, in light and dark: nothing scrolls sideways, the words and the link can be read
    // and tapped.
    await page.setViewportSize({ width: 320, height: 640 });
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
      expect(await lowContrast(page)).toEqual([]);
    }
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await tooSmall(page)).toEqual([]);
    expect(await unnamedControls(page)).toEqual([]);
    expect(await cspViolations(page)).toEqual([]);

    // The thread's title is a link to it.
    await author('my-instructions.md').getByRole('link', { name: 'Web research' }).click();
    await expect.poll(() => page.evaluate(() => location.hash)).toBe(`#${new URLSearchParams({ thread: thread.id })}`);
    await page.getByText('Read this page').first().waitFor();
    laptop.close();
  });

  it('words: a thread or device name with hidden characters shows them; a deleted thread is said', () => {
    expect(memoryWriterWords({ kind: 'task', threadId: 't1', threadTitle: 'Notes\u202Eexe.pdf' })).toEqual({
      text: 'Saved by a task in ',
      thread: { id: 't1', title: 'Notes⟨U+202E⟩exe.pdf' },
      byTask: true,
    });
    expect(memoryWriterWords({ kind: 'task', threadId: 't1' })?.text).toBe('Saved by a task in a thread since deleted');
    expect(memoryWriterWords({ kind: 'device', deviceId: 'd2', deviceName: 'Ana\u200b phone' }, 'd1')?.text).toBe(
      'Saved on Ana⟨U+200B⟩ phone',
    );
    expect(memoryWriterWords({ kind: 'device', deviceId: 'd1', deviceName: 'Mine' }, 'd1')?.text).toBe(
      'Saved on this phone',
    );
    expect(memoryWriterWords({ kind: 'unknown' })?.text).toBe('Saved outside Errand (who saved it is not known)');
    expect(memoryWriterWords(undefined)).toBeUndefined();
  });
});
