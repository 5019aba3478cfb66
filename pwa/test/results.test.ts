// Results on the phone: the files a task wrote, rendered (Markdown, CSV as a table), undo from the
// phone, and attachments sent from the phone — in Chromium against the real daemon.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDaemon } from '../../daemon/test/helpers/daemon.js';
import { type ModelServer, reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { type Browser, cspViolations, type PhoneRig, shot, startPhoneRig } from './helpers/browser.js';

const REPORT =
  '# Q3 report\n\nSales **rose** in the north.\n\n| Region | Sales |\n|---|---|\n| North | 10 |\n| South | 7 |\n';
const CSV = 'region,sales\nNorth,10\nSouth,7\n';

describe('results on the phone', () => {
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

  it('opens the result file a task wrote, and undoes the task', async () => {
    const { page } = b;
    model.push(
      reply(
        text('Writing.'),
        toolUse('fs_write', { path: 'report.md', content: REPORT }),
        toolUse('fs_write', { path: 'sales.csv', content: CSV }),
      ),
      reply(text('Done: report.md written.')),
    );
    await page.getByRole('button', { name: 'New task' }).click();
    await page.getByRole('textbox', { name: 'Message' }).fill('Write the report file');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('.task-footer .chip-done').waitFor({ timeout: 20_000 });
    // Result files as cards right under the answer: name, folder, Open.
    const cards = page.getByRole('list', { name: 'Result files' });
    await expect.poll(() => cards.locator('.result-name').allInnerTexts()).toEqual(['report.md', 'sales.csv']);
    expect(await cards.locator('.result-folder').allInnerTexts()).toEqual(['workspace', 'workspace']);
    await page.getByRole('link', { name: 'Open report.md (result file)' }).click();
    await page.locator('main.file table').waitFor();
    await page.getByRole('button', { name: 'Back' }).click();
    // Results: the changed file opens rendered (Markdown with its table).
    await page.getByRole('button', { name: 'Changed files' }).click();
    // The row's own link (the row also has "View changes to …", the card "View changes to report.md").
    const link = page.locator('.changes').getByRole('link', { name: 'View workspace/report.md', exact: true });
    await link.click();
    const table = page.locator('main.file table');
    await table.waitFor();
    expect(await table.locator('td').allInnerTexts()).toEqual(['North', '10', 'South', '7']);
    expect(await page.locator('main.file strong').innerText()).toBe('rose');
    await shot(page, '14-file');
    // Download fetches with the token in a header (never in the URL) and saves the exact bytes.
    const fileRequests: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/file')) fileRequests.push(r.url());
    });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download report.md' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('report.md');
    expect(fs.readFileSync((await download.path())!, 'utf8')).toBe(REPORT);
    expect(fileRequests).toHaveLength(1);
    const auth = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const r = indexedDB.open('errand');
          r.onsuccess = () => {
            const g = r.result.transaction('kv').objectStore('kv').get('auth');
            g.onsuccess = () => resolve(g.result.token);
          };
        }),
    );
    expect(fileRequests[0]).not.toContain(auth);
    const changed = decodeURIComponent(new URL(page.url()).hash).match(/file=([^&]+)/)![1];
    await page.getByRole('button', { name: 'Back' }).click();

    // A CSV opens as a table.
    await page.getByRole('button', { name: 'Changed files' }).click();
    await page.locator('.changes').getByRole('link', { name: 'View workspace/sales.csv', exact: true }).click();
    await page.locator('main.file table').waitFor();
    expect(await page.locator('main.file th').allInnerTexts()).toEqual(['region', 'sales']);
    expect(await page.locator('main.file td').allInnerTexts()).toEqual(['North', '10', 'South', '7']);
    await page.getByRole('button', { name: 'Back' }).click();

    // Undo (two taps) takes the file away again.
    await page.getByRole('button', { name: 'Undo changes' }).click();
    // Before the second tap it says what undo will do.
    await page.getByText('Undo will remove report.md and sales.csv, which this task created.').waitFor();
    await shot(page, '15-undo-preview');
    await page.getByRole('button', { name: 'Confirm undo changes' }).click();
    const abs = changed.startsWith('/') ? changed : `${td.home}/workspace/${changed}`;
    expect(abs.endsWith('report.md')).toBe(true);
    await expect.poll(() => fs.existsSync(abs), { timeout: 10_000 }).toBe(false);
    await page.getByText("All of this task's changes were undone.").waitFor();
    await page.getByRole('button', { name: 'Changed files' }).click();
    await expect.poll(() => page.getByText('Created (undone)').count()).toBe(2);
    // The cards say what undo did, and no longer open anything.
    await expect.poll(() => cards.getByText('Removed by undo').count()).toBe(2);
    expect(await cards.getByRole('link').count()).toBe(0);
    expect(await page.getByRole('link', { name: /report\.md$/ }).count()).toBe(0);
    await shot(page, '15-undone');
  });

  it('sends a photo from the phone with a new task; the host records it and the model is told', async () => {
    const { page } = b;
    model.push(reply(text('I see the attachment.')));
    await page.goto(`${td.url}/#`);
    await page.getByRole('button', { name: 'New task' }).click();
    const photo = fs.readFileSync(new URL('../public/icons/icon-192.png', import.meta.url));
    await page
      .getByLabel('Choose files to attach')
      .setInputFiles({ name: 'photo from phone.png', mimeType: 'image/png', buffer: photo });
    await page.getByText(/photo from phone\.png · \d/).waitFor();
    await page.getByRole('textbox', { name: 'Message' }).fill('Use the attached photo');
    await shot(page, '17-attachment');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByText('I see the attachment.').waitFor({ timeout: 20_000 });
    await page.locator('.msg-user', { hasText: 'photo from phone.png' }).waitFor();
    const req = model.requests.find((r) => JSON.stringify(r.body.messages).includes('Use the attached photo'));
    expect(JSON.stringify(req?.body.messages)).toContain('photo from phone.png');
  });

  it('shows an image file inline, from a data URL only', async () => {
    const { page } = b;
    const png = fs.readFileSync(new URL('../public/icons/icon-192.png', import.meta.url));
    const target = `${td.home}/workspace/chart.png`;
    fs.writeFileSync(target, png);
    const hash = new URLSearchParams(new URL(page.url()).hash.slice(1));
    const threadId = hash.get('thread')!;
    const c = await td.connect();
    const { tasks } = await c.send<{ tasks: { id: string }[] }>({ type: 'thread.get', threadId });
    c.close();
    await page.goto(`${td.url}/#${new URLSearchParams({ thread: threadId, task: tasks[0].id, file: target })}`);
    const img = page.getByRole('img', { name: 'chart.png' });
    await img.waitFor();
    expect(await img.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    expect(await img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(192);
    await shot(page, '14b-image');
    expect(await cspViolations(page)).toEqual([]);
  });
});
