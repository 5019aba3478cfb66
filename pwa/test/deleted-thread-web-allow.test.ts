// A thread deleted on another device hides the "Allow reading web pages" button of its web-fetch
// notice (the computer would refuse it, as it refuses Undo or Retry there); the notice's why stays
// readable, and Restore brings the button back.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { text } from '../../daemon/test/helpers/model-server.js';
import { fetchedPage } from '../../daemon/test/helpers/web-steps.js';
import type { WsTestClient } from '../../daemon/test/helpers/ws-client.js';
import { FETCH_WITHDRAWN_NOTICE } from '../../shared/src/web-fetch-words.js';
import { type PhoneRig, startPhoneRig } from './helpers/browser.js';

let rig: PhoneRig | undefined;
let other: WsTestClient | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Deleted web allow phone');
  other = await rig.td.connect();
}, 120_000);
afterAll(async () => {
  other?.close();
  await rig?.close();
});

it('a deleted thread offers no Allow on its web-fetch notice; Restore offers it again', async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  model.push(
    {
      content: [...fetchedPage('srvtoolu_a', 'https://example.com/a', 'hi', 'https://example.com/a'), text('A read.')],
    },
    { content: [text('Please allow web fetch from your phone.')] },
  );
  await page.goto(`${td.url}/#new`);
  await page.getByRole('textbox', { name: 'Message' }).fill('read https://example.com/a');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByText('A read.').waitFor({ timeout: 20_000 });
  await page.getByRole('textbox', { name: 'Message' }).fill('now read https://example.com/b');
  await page.getByRole('button', { name: 'Send' }).click();
  const allow = page.getByRole('button', { name: 'Allow reading web pages and go on' });
  await allow.waitFor({ timeout: 20_000 });
  const threadId = new URLSearchParams(new URL(page.url()).hash.slice(1)).get('thread')!;

  await other!.send({ type: 'thread.delete', threadId });
  await page.getByRole('status').filter({ hasText: 'This thread was deleted.' }).waitFor({ timeout: 20_000 });
  expect(await page.getByRole('button', { name: /^Allow reading web pages/ }).count()).toBe(0);
  await page.getByText(FETCH_WITHDRAWN_NOTICE).waitFor();

  await page.getByRole('button', { name: 'Restore', exact: true }).click();
  await allow.waitFor({ timeout: 20_000 });
}, 90_000);
