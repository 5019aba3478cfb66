// Settings → Memory against the real daemon: the agent's memory files are listed, one is read,
// edited and saved, another deleted, then everything cleared; the personal instructions are saved.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../daemon/test/helpers/daemon.js';
import { type Browser, cspViolations, ensureBuilt, launch, pairThroughUi, unnamedControls } from './helpers/browser.js';

describe('memory screen', () => {
  let td: TestDaemon;
  let b: Browser;
  beforeAll(async () => {
    await ensureBuilt();
    td = await startTestDaemon();
    b = await launch();
    await pairThroughUi(b.page, td, 'Memory phone');
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await td?.stop();
  });

  it('reads, edits, deletes and clears memory, and saves the personal instructions', async () => {
    const { page } = b;
    const root = td.daemon.ctx.paths.memory;
    fs.mkdirSync(path.join(root, 'people'), { recursive: true });
    fs.writeFileSync(path.join(root, 'prefs.md'), 'Reports as PDF.');
    fs.writeFileSync(path.join(root, 'people', 'ana.md'), 'Ana: finance');
    fs.writeFileSync(path.join(root, 'old.md'), 'stale');

    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('link', { name: 'Open Memory' }).click();
    await page.getByRole('heading', { name: 'What the agent remembers' }).waitFor();
    await page.getByRole('button', { name: /^prefs\.md/ }).waitFor();
    expect(
      await page.locator('.memory-entry').evaluateAll((els) => els.map((e) => e.getAttribute('data-path'))),
    ).toEqual(['/memories/old.md', '/memories/people/ana.md', '/memories/prefs.md']);

    // Read and edit one.
    await page.getByRole('button', { name: /^prefs\.md/ }).click();
    const field = page.getByLabel('Text of prefs.md');
    await expect.poll(() => field.inputValue()).toBe('Reports as PDF.');
    await field.fill('Reports as Markdown.');
    await page.locator('[data-path="/memories/prefs.md"]').getByRole('button', { name: 'Save' }).click();
    await page.locator('[data-path="/memories/prefs.md"]').getByRole('button', { name: 'Saved' }).waitFor();
    expect(fs.readFileSync(path.join(root, 'prefs.md'), 'utf8')).toBe('Reports as Markdown.');

    // Delete another (with a confirmation).
    await page.getByRole('button', { name: /^old\.md/ }).click();
    const old = page.locator('[data-path="/memories/old.md"]');
    await old.getByRole('button', { name: 'Delete', exact: true }).click();
    await old.getByRole('button', { name: 'Delete old.md now' }).click();
    await expect.poll(() => page.locator('[data-path="/memories/old.md"]').count()).toBe(0);
    expect(fs.existsSync(path.join(root, 'old.md'))).toBe(false);

    // Personal instructions.
    const instr = page.getByRole('textbox', { name: 'Personal instructions' });
    await instr.waitFor();
    await instr.fill('Answer in Portuguese.');
    await page.getByRole('button', { name: 'Save instructions' }).click();
    await page.getByRole('button', { name: 'Saved', exact: true }).last().waitFor();
    await expect
      .poll(
        () =>
          fs.existsSync(td.daemon.ctx.paths.instructions) && fs.readFileSync(td.daemon.ctx.paths.instructions, 'utf8'),
      )
      .toBe('Answer in Portuguese.');

    expect(await cspViolations(page)).toEqual([]);
    expect(await unnamedControls(page)).toEqual([]);

    // Clear everything.
    await page.getByRole('button', { name: 'Clear all memory' }).click();
    await page.getByRole('button', { name: 'Delete all 2 now' }).click();
    await page.getByText('Nothing yet.').waitFor();
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('opened while the computer is unreachable, both cards say they show once it is reachable', async () => {
    const { page, context } = b;
    await context.setOffline(true);
    try {
      await page.reload();
      await page.getByText("Can't reach your computer", { exact: false }).waitFor({ timeout: 15_000 });
      for (const name of ['What the agent remembers', 'Personal instructions'])
        await page.getByRole('region', { name }).getByText('Shown when your computer is reachable.').waitFor();
    } finally {
      await context.setOffline(false);
    }
    // Back online, the cards fill in.
    await page.getByText('Nothing yet.').waitFor({ timeout: 15_000 });
    await page.getByRole('textbox', { name: 'Personal instructions' }).waitFor();
    expect(await page.getByText('Shown when your computer is reachable.').count()).toBe(0);
  });

  it('shows a name the model wrote with a direction mark as the mark, never reordered', async () => {
    const { page } = b;
    fs.writeFileSync(path.join(td.daemon.ctx.paths.memory, '\u202etxt.sh'), 'x');
    await page.reload();
    const entry = page.locator('.memory-entry .memory-name');
    await entry.first().waitFor();
    expect(await entry.allInnerTexts()).toEqual([expect.stringContaining('⟨U+202E⟩txt.sh')]);
  });
});
