// Allowing web fetch on the phone wherever it was withdrawn (audit s21 #2). A thread read a page;
// the next message gives another URL, the request withholds web fetch, and the task ends with the
// model asking. The task's notice says why and offers the Allow button; tapping it goes on in a new
// task that may fetch. A task still going gets "for this task". Checked at 320 px and in dark mode.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { fetchedPage } from '../../daemon/test/helpers/web-steps.js';
import { FETCH_WITHDRAWN_NOTICE } from '../../shared/src/web-fetch-words.js';
import { lowContrast, type PhoneRig, shot, startPhoneRig, tooSmall } from './helpers/browser.js';

let rig: PhoneRig;
beforeAll(async () => {
  rig = await startPhoneRig('Allow phone');
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

const fetched = (id: string, url: string) => fetchedPage(id, url, 'hi', url);
const webNames = (i: number) =>
  rig.model.requests[i].body.tools.map((t: { name: string }) => t.name).filter((n: string) => n.startsWith('web_'));

it('offers Allow on a task that ended with web fetch withdrawn, and going on may read the page', async () => {
  const { page } = rig.b;
  const { model } = rig;
  model.push(
    { content: [...fetched('srvtoolu_a', 'https://example.com/a'), text('Page A says hi.')] },
    { content: [text('Please allow web fetch for this task from your phone.')] },
    { content: [...fetched('srvtoolu_b', 'https://example.com/b'), text('Page B says hi.')] },
  );
  await page.goto(`${rig.td.url}/#new`);
  await page.getByRole('textbox', { name: 'Message' }).fill('read https://example.com/a');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('Page A says hi.').waitFor({ timeout: 20_000 });
  await page.getByRole('textbox', { name: 'Message' }).fill('now read https://example.com/b');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('Please allow web fetch for this task from your phone.').waitFor({ timeout: 20_000 });
  expect(webNames(1)).toEqual(['web_search']);

  // The task has ended: the notice says what is off and why, with the button to allow and go on.
  const why = page.getByText(FETCH_WITHDRAWN_NOTICE);
  await why.waitFor({ timeout: 20_000 });
  expect(await why.count()).toBe(1);
  const allow = page.getByRole('button', { name: 'Allow reading web pages and go on' });
  await allow.waitFor({ timeout: 10_000 });
  expect(await allow.getAttribute('aria-describedby')).toBe(await why.getAttribute('id'));

  // Fits at 320 px and reads in dark mode (and light).
  for (const [width, scheme] of [
    [320, 'light'],
    [320, 'dark'],
    [360, 'dark'],
  ] as const) {
    await page.setViewportSize({ width, height: 640 });
    await page.emulateMedia({ colorScheme: scheme });
    await allow.scrollIntoViewIfNeeded();
    await shot(page, `web-fetch-allow-${width}-${scheme}`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    const box = (await allow.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(width);
    expect(box.height).toBeGreaterThanOrEqual(43.5);
    expect({ scheme, small: (await tooSmall(page)).filter((t) => /Allow/.test(t.label ?? '')) }).toEqual({
      scheme,
      small: [],
    });
    expect({ scheme, low: await lowContrast(page) }).toEqual({ scheme, low: [] });
  }
  // At 320x568 and 200 % text, scrolled up a little: "Latest ↓" never covers the button.
  await page.setViewportSize({ width: 320, height: 568 });
  await page.evaluate(() => {
    document.documentElement.style.fontSize = '200%';
  });
  try {
    const log = page.getByRole('log', { name: 'Conversation' });
    await allow.scrollIntoViewIfNeeded();
    await log.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    const bottom = await log.evaluate((el) => el.scrollTop);
    // The person scrolls the button up to the top of the view: away from the newest, button in view.
    await allow.evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await expect.poll(() => log.evaluate((el) => el.scrollTop)).toBeLessThan(bottom - 85);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    // While the button is in view there is no pill to cover it (as for approval and question cards).
    const seen = await page.evaluate(() => {
      const view = document.querySelector('.conversation')!.getBoundingClientRect();
      const b = [...document.querySelectorAll('.web-off button')].at(-1)!.getBoundingClientRect();
      return { inView: b.bottom > view.top && b.top < view.bottom, pill: !!document.querySelector('.jump-latest') };
    });
    expect(seen).toEqual({ inView: true, pill: false });
  } finally {
    await page.evaluate(() => {
      document.documentElement.style.fontSize = '';
    });
    await page.setViewportSize({ width: 360, height: 640 });
  }
  await page.emulateMedia({ colorScheme: 'light' });

  await allow.click();
  await page.getByText('Page B says hi.').waitFor({ timeout: 20_000 });
  expect(webNames(2)).toEqual(['web_search', 'web_fetch']);
  // The thread went on: the ended task's button is gone (one tap, one task).
  expect(await page.getByRole('button', { name: /^Allow reading web pages/ }).count()).toBe(0);
});

it('offers Allow for this task while a task that read the web waits on a question', async () => {
  const { page } = rig.b;
  const { model } = rig;
  const before = model.requests.length;
  model.push(
    {
      content: [
        {
          type: 'server',
          block: { type: 'server_tool_use', id: 'srvtoolu_s', name: 'web_search' },
          input: { query: 'r' },
        },
        {
          type: 'server',
          block: {
            type: 'web_search_tool_result',
            tool_use_id: 'srvtoolu_s',
            content: [{ type: 'web_search_result', url: 'https://example.com/r', title: 'R', encrypted_content: 'E' }],
          },
        },
        toolUse('ask_user', { question: 'May I read the R page?' }),
      ],
    },
    { content: [text('R read.')] },
  );
  await page.goto(`${rig.td.url}/#new`);
  await page.getByRole('textbox', { name: 'Message' }).fill('find r');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('Searched the web for “r”').waitFor({ timeout: 20_000 });
  await page.getByRole('button', { name: 'Allow reading web pages for this task' }).click({ timeout: 20_000 });
  await page.getByText('Reading web pages is allowed for this task.').waitFor({ timeout: 20_000 });
  expect(await page.getByRole('button', { name: /^Allow reading web pages/ }).count()).toBe(0);
  await page.getByRole('textbox', { name: 'Your answer' }).fill('yes');
  await page.getByRole('button', { name: 'Send answer' }).click();
  await page.getByText('R read.').waitFor({ timeout: 20_000 });
  expect(webNames(before + 1)).toContain('web_fetch');
});
