// Web research on the phone: a web search the API ran shows as a step with its result links, a web
// fetch as "Read <title>", and the answer lists the sources it cites. Chromium against the real
// daemon and a scripted model that streams server tool blocks.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../daemon/test/helpers/daemon.js';
import { type ModelServer, startModelServer } from '../../daemon/test/helpers/model-server.js';
import { type Browser, ensureBuilt, launch, pairThroughUi } from './helpers/browser.js';

let model: ModelServer;
let td: TestDaemon;
let b: Browser;
beforeAll(async () => {
  await ensureBuilt();
  model = await startModelServer();
  td = await startTestDaemon({ env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: model.url } });
  b = await launch();
  await pairThroughUi(b.page, td, 'Web phone');
}, 120_000);
afterAll(async () => {
  await b?.close();
  await td?.stop();
  await model?.close();
});

it('shows web search and fetch steps with their links and the cited sources under the answer', async () => {
  const { page } = b;
  model.push({
    content: [
      {
        type: 'server',
        block: { type: 'server_tool_use', id: 'srvtoolu_s1', name: 'web_search' },
        input: { query: 'lisbon flights' },
      },
      {
        type: 'server',
        block: {
          type: 'web_search_tool_result',
          tool_use_id: 'srvtoolu_s1',
          content: [
            {
              type: 'web_search_result',
              url: 'https://example.com/a',
              title: 'Fares to Lisbon',
              encrypted_content: 'E1',
            },
            { type: 'web_search_result', url: 'javascript:alert(1)', title: 'Bad link', encrypted_content: 'E2' },
          ],
        },
      },
      {
        type: 'text',
        text: 'Cheapest fare is 99 euros.',
        citations: [
          {
            type: 'web_search_result_location',
            url: 'https://example.com/a',
            title: 'Fares to Lisbon',
            encrypted_index: 'I',
            cited_text: '99',
          },
        ],
      },
    ],
    usage: { server_tool_use: { web_search_requests: 1 } },
  });
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Find flights');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('Cheapest fare is 99 euros.').waitFor({ timeout: 20_000 });

  await page.getByText('Searched the web for “lisbon flights”').waitFor({ timeout: 20_000 });
  const results = page.getByRole('list', { name: 'Search results' });
  await expect
    .poll(() => results.getByRole('link', { name: 'Fares to Lisbon' }).getAttribute('href'))
    .toBe('https://example.com/a');
  // A result link that is not http(s) is not offered as a link.
  expect(await page.getByRole('link', { name: 'Bad link' }).count()).toBe(0);
  const sources = page.getByRole('list', { name: 'Sources' });
  await expect.poll(() => sources.getByRole('link', { name: 'Fares to Lisbon' }).count()).toBe(1);
  // The request carried web search (on by default); fetch only goes alone, when the message gives a URL.
  const names = model.requests[0].body.tools.map((t: { name: string }) => t.name);
  expect(names).toContain('web_search');
  expect(names).not.toContain('web_fetch');

  // A page the person names is read in a new thread (this one read search results: fetch is off here).
  model.push({
    content: [
      {
        type: 'server',
        block: { type: 'server_tool_use', id: 'srvtoolu_f1', name: 'web_fetch' },
        input: { url: 'https://example.com/a' },
      },
      {
        type: 'server',
        block: {
          type: 'web_fetch_tool_result',
          tool_use_id: 'srvtoolu_f1',
          content: {
            type: 'web_fetch_result',
            url: 'https://example.com/a',
            content: {
              type: 'document',
              source: { type: 'text', media_type: 'text/plain', data: 'fares' },
              title: 'Fares page',
            },
          },
        },
      },
      { type: 'text', text: 'The fares page lists 99 euros.' },
    ],
    usage: { server_tool_use: { web_fetch_requests: 1 } },
  });
  await page.goto(`${td.url}/#`);
  await page.getByRole('button', { name: 'New task' }).click({ timeout: 20_000 });
  await page.getByRole('textbox', { name: 'Message' }).fill('Read https://example.com/a');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('The fares page lists 99 euros.').waitFor({ timeout: 20_000 });
  await page.getByText('Read Fares page').waitFor({ timeout: 20_000 });
  const fetchNames = model.requests[1].body.tools.map((t: { name: string }) => t.name);
  expect(fetchNames).toContain('web_fetch');
}, 60_000);

it('allows reading web pages for a tainted task from its step, and switches web fetch off in Settings', async () => {
  const { page } = b;
  const before = model.requests.length;
  model.push(
    {
      content: [
        {
          type: 'server',
          block: { type: 'server_tool_use', id: 'srvtoolu_s2', name: 'web_search' },
          input: { query: 'rome hotels' },
        },
        {
          type: 'server',
          block: {
            type: 'web_search_tool_result',
            tool_use_id: 'srvtoolu_s2',
            content: [
              { type: 'web_search_result', url: 'https://example.com/r', title: 'Rome', encrypted_content: 'E' },
            ],
          },
        },
        { type: 'tool_use', name: 'ask_user', input: { question: 'May I read the hotel page?' } },
      ],
    },
    { content: [{ type: 'text', text: 'Hotels found.' }] },
  );
  await page.goto(`${td.url}/#`);
  await page.getByRole('button', { name: 'New task' }).click({ timeout: 20_000 });
  await page.getByRole('textbox', { name: 'Message' }).fill('Find hotels');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('Searched the web for “rome hotels”').waitFor({ timeout: 20_000 });
  await page.getByRole('button', { name: 'Allow reading web pages for this task' }).click({ timeout: 20_000 });
  await page.getByText('Reading web pages is allowed for this task.').waitFor({ timeout: 20_000 });
  await page.getByRole('textbox', { name: 'Your answer' }).fill('yes');
  await page.getByRole('button', { name: 'Send answer' }).click();
  await page.getByText('Hotels found.').waitFor({ timeout: 20_000 });
  const names = model.requests[before + 1].body.tools.map((t: { name: string }) => t.name);
  expect(names).toContain('web_fetch');

  await page.goto(`${td.url}/#settings`);
  const card = page.getByRole('region', { name: 'Web research' });
  await card.waitFor({ timeout: 10_000 });
  const fetchBox = card.getByRole('checkbox', { name: 'Read web pages (web fetch)' });
  await expect.poll(() => fetchBox.isChecked()).toBe(true);
  await fetchBox.click();
  await expect.poll(() => td.daemon.ctx.config().web.fetch).toBe(false);
  await expect.poll(() => fetchBox.isChecked()).toBe(false);
  expect(td.daemon.ctx.config().web.search).toBe(true);
});

it('while the computer is unreachable the web research switches are off limits, and the card says why', async () => {
  const { page, context } = b;
  await page.goto(`${td.url}/#settings`);
  const card = page.getByRole('region', { name: 'Web research' });
  const boxes = card.getByRole('checkbox');
  await expect.poll(() => boxes.count(), { timeout: 10_000 }).toBe(2);
  expect(await boxes.first().isEnabled()).toBe(true);
  const why = card.getByText('Connect to your computer to change web research.');
  expect(await why.count()).toBe(0);
  // The link drops (the host stops answering): like other settings, nothing can be changed, and it says why.
  const gateway = td.daemon.gateway as unknown as { send: unknown };
  gateway.send = () => undefined;
  try {
    await page.evaluate(() => dispatchEvent(new Event('online')));
    await page.getByText("Can't reach your computer", { exact: false }).waitFor({ timeout: 10_000 });
    await why.waitFor();
    for (const box of await boxes.all()) expect(await box.isDisabled()).toBe(true);
  } finally {
    delete gateway.send;
  }
  await expect.poll(() => boxes.first().isEnabled(), { timeout: 30_000 }).toBe(true);
  expect(await why.count()).toBe(0);

  // Opened while unreachable (a reload offline): the card is there, saying when it shows.
  await context.setOffline(true);
  try {
    await page.reload();
    await page.getByText("Can't reach your computer", { exact: false }).waitFor({ timeout: 15_000 });
    await card.getByText('Shown when your computer is reachable.').waitFor();
    expect(await boxes.count()).toBe(0);
  } finally {
    await context.setOffline(false);
  }
  await expect.poll(() => boxes.count(), { timeout: 15_000 }).toBe(2);
  expect(await card.getByText('Shown when your computer is reachable.').count()).toBe(0);
}, 60_000);
