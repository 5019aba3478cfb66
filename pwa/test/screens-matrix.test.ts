// Every screen a person meets, at phone size, in light and dark, at 320 px wide and at 200 % text:
// nothing scrolls sideways (the page, or a screen's own scrolling area), no field is squeezed, every control has a name (on pairing, the file viewer and the diff every
// touch target is at least 44 px too), and a screenshot of each goes to
// test-output/screenshots/matrix-* for a person to look at.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { type PhoneRig, shot, startPhoneRig, tooSmall, unnamedControls } from './helpers/browser.js';

let rig: PhoneRig | undefined;
let threadId = '';
/** The diff screen's address: the edit made in beforeAll. */
let diffHash = '';
beforeAll(async () => {
  rig = await startPhoneRig('Matrix phone');
  const { page } = rig.b;
  // A thread with a step, a written file, a table and an answer.
  rig.model.push(
    reply(toolUse('fs_write', { path: 'report.md', content: '# Report\n\nAll good.' })),
    reply(text('Done: **report.md** is written.\n\n| Month | Total |\n|---|---:|\n| Jan | 1,200 |')),
  );
  await page.goto(`${rig.td.url}/#new`);
  await page.getByRole('textbox', { name: 'Message' }).fill('Write the monthly report');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('is written.').waitFor({ timeout: 20_000 });
  threadId = decodeURIComponent(new URL(page.url()).hash.match(/thread=([^&]+)/)![1]);
  // Another thread whose task edits that file, for the diff screen (removed and added lines).
  rig.model.push(
    reply(
      toolUse('fs_edit', {
        path: 'report.md',
        old_text: '# Report\n',
        new_text: '# Monthly report\n\nChecked twice.\n',
      }),
    ),
    reply(text('Updated report.md.')),
  );
  await page.goto(`${rig.td.url}/#new`);
  await page.getByRole('textbox', { name: 'Message' }).fill('Check the report again');
  await page.getByRole('button', { name: 'Send' }).click();
  const diffLink = page.getByRole('link', { name: 'View changes to report.md' });
  await diffLink.waitFor({ timeout: 20_000 });
  diffHash = (await diffLink.getAttribute('href'))!;
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

const MODES = [
  { name: 'light', width: 360, dark: false, text: 100 },
  { name: 'dark', width: 360, dark: true, text: 100 },
  { name: '320px', width: 320, dark: false, text: 100 },
  { name: 'text200', width: 360, dark: false, text: 200 },
  { name: '320px-text200', width: 320, dark: true, text: 200 },
] as const;

/** Screens whose every touch target is checked to be at least 44 px in every mode. */
const touchChecked = new Set(['pair', 'already-paired', 'file', 'diff', 'thread']);

async function check(page: Page, screen: string, mode: (typeof MODES)[number]): Promise<string[]> {
  await page.setViewportSize({ width: mode.width, height: 640 });
  await page.emulateMedia({ colorScheme: mode.dark ? 'dark' : 'light' });
  await page.evaluate((pct) => {
    document.documentElement.style.fontSize = `${pct}%`;
  }, mode.text);
  await shot(page, `matrix-${screen}-${mode.name}`);
  const problems: string[] = [];
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 0) problems.push(`${screen} ${mode.name}: scrolls sideways by ${overflow} px`);
  // A screen's own scrolling area (overflow-y: auto scrolls on x too) and anything past the right
  // edge: the page itself can fit while its main area pans sideways. Code and tables scroll by design.
  for (const wide of await page.evaluate(() =>
    [...document.querySelectorAll('body *')]
      .filter((e) => (e as HTMLElement).offsetParent !== null && !e.closest('pre, table, .table-wrap, svg'))
      .filter((e) => {
        const r = e.getBoundingClientRect();
        const scrolls = e.scrollWidth > e.clientWidth + 1 && /auto|scroll/.test(getComputedStyle(e).overflowX);
        return scrolls || (r.width > 0 && r.right > window.innerWidth + 1);
      })
      .map(
        (e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} ${(e.textContent ?? '').trim().slice(0, 30)}`,
      ),
  ))
    problems.push(`${screen} ${mode.name}: past the screen's edge: ${wide}`);
  // A text field squeezed by its neighbours shows a character or two: typing in it is blind.
  for (const field of await page.evaluate(() =>
    [...document.querySelectorAll('input:not([type=checkbox]):not([type=radio]):not([type=file]), textarea')]
      .filter((e) => (e as HTMLElement).offsetParent !== null && e.getBoundingClientRect().width < 120)
      .map((e) => `${e.getAttribute('aria-label') ?? e.id} ${Math.round(e.getBoundingClientRect().width)} px`),
  ))
    problems.push(`${screen} ${mode.name}: squeezed field ${field}`);
  for (const c of await unnamedControls(page)) problems.push(`${screen} ${mode.name}: unnamed control ${c}`);
  if (touchChecked.has(screen))
    for (const t of await tooSmall(page))
      problems.push(`${screen} ${mode.name}: touch target ${t.label} is ${Math.round(t.w)}×${Math.round(t.h)} px`);
  return problems;
}

// Eight screens × four modes with screenshots: about 25 s on an idle machine, more under load.
it('every screen fits and names its controls in light, dark, 320 px and 200 % text', async () => {
  const { page } = rig!.b;
  const url = rig!.td.url;
  const screens: Array<{ name: string; hash: string; ready: () => Promise<unknown> }> = [
    { name: 'list', hash: '#', ready: () => page.getByRole('button', { name: 'New task' }).waitFor() },
    { name: 'new', hash: '#new', ready: () => page.getByRole('textbox', { name: 'Message' }).waitFor() },
    { name: 'thread', hash: `#thread=${threadId}`, ready: () => page.getByText('is written.').waitFor() },
    {
      name: 'settings',
      hash: '#settings',
      ready: () => page.getByRole('heading', { name: 'Paired devices' }).waitFor(),
    },
    {
      name: 'schedules',
      hash: '#schedules',
      ready: () => page.getByRole('heading', { name: 'Schedules' }).first().waitFor(),
    },
  ];
  const fileHash = diffHash.replace('&diff=', '&file=');
  screens.push(
    { name: 'file', hash: fileHash, ready: () => page.getByText('Checked twice.').waitFor() },
    { name: 'diff', hash: diffHash, ready: () => page.locator('.dl-del').first().waitFor() },
  );
  const problems: string[] = [];
  for (const s of screens) {
    await page.goto(`${url}/${s.hash}`);
    await s.ready();
    for (const mode of MODES) problems.push(...(await check(page, s.name, mode)));
    await page.evaluate(() => {
      document.documentElement.style.fontSize = '';
    });
  }
  await page.setViewportSize({ width: 360, height: 640 });
  await page.emulateMedia({ colorScheme: 'light' });

  // The pairing screen, as a phone opens the code's link (a page load with #pair=…; not claimed here):
  // this phone is paired, so it asks first, then shows the form.
  const pairPage = await rig!.b.context.newPage();
  try {
    await pairPage.goto(rig!.td.mintPairCode().url);
    await pairPage.getByRole('button', { name: 'Pair again' }).waitFor();
    for (const mode of MODES) problems.push(...(await check(pairPage, 'already-paired', mode)));
    await pairPage.getByRole('button', { name: 'Pair again' }).click();
    await pairPage.getByLabel('Name for this device').waitFor();
    for (const mode of MODES) problems.push(...(await check(pairPage, 'pair', mode)));
  } finally {
    await pairPage.close();
  }
  expect(problems).toEqual([]);
}, 120_000);

it('a file named in the answer is a link to the file viewer', async () => {
  const { page } = rig!.b;
  await page.goto(`${rig!.td.url}/#thread=${threadId}`);
  const link = page.locator('.msg-assistant').getByRole('link', { name: 'Open report.md' });
  await link.waitFor({ timeout: 10_000 });
  expect(await link.getAttribute('href')).toMatch(/^#thread=.+&task=.+&file=.+report\.md$/);
  await link.click();
  await page.getByText('All good.').waitFor({ timeout: 10_000 });
  // The header says where the file is from the shared folder, as the diff does, not the host's full path.
  expect(await page.locator('header.top .path').innerText()).toBe('workspace/report.md');
  // Words that are not a produced file stay plain.
  await page.goto(`${rig!.td.url}/#thread=${threadId}`);
  await link.waitFor();
  expect(await page.locator('.msg-assistant a.path-link').count()).toBe(1);
});
