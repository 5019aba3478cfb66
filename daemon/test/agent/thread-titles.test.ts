// Thread titles are shown on the phone's list, in pushes and in the terminal: never an invisible or
// reordering mark (U+202E can make "exe.txt" read "txt.exe"), never half an emoji.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import { type Harness, startHarness } from './harness.js';

let server: ModelServer;
let h: Harness | undefined;
beforeEach(async () => {
  server = await startModelServer(() => reply(text('Done.')));
});
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
  await server.close();
});

const isWellFormed = (s: string) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);

it('a title made from the message is one clean line, cut between characters', async () => {
  h = await startHarness({ modelUrl: server.url });
  const emoji = (await h.send('thread.create', { text: '😀'.repeat(60_000) })) as { thread: { title: string } };
  expect(isWellFormed(emoji.thread.title)).toBe(true);
  expect(emoji.thread.title.endsWith('…')).toBe(true);

  const marks = (await h.send('thread.create', {
    text: '\n  invoice\u202eexe.txt\u2066 for\tMarch\u0000\nsecond line',
  })) as {
    thread: { title: string };
  };
  expect(marks.thread.title).toBe('invoiceexe.txt for March');
});

it('a title given by a client loses the same marks; one with nothing visible is refused', async () => {
  h = await startHarness({ modelUrl: server.url });
  const made = (await h.send('thread.create', { text: 'Sort the receipts', title: '\u202e\u2066Receipts\u0000' })) as {
    thread: { id: string; title: string };
  };
  expect(made.thread.title).toBe('Receipts');
  const renamed = (await h.send('thread.rename', { threadId: made.thread.id, title: 'abc\u202eexe.txt\u0000' })) as {
    thread: { title: string };
  };
  expect(renamed.thread.title).toBe('abcexe.txt');
  await expect(h.send('thread.rename', { threadId: made.thread.id, title: '\u202e\u200b' })).rejects.toMatchObject({
    code: 'bad_request',
  });
  expect(h.store.threads.summary(made.thread.id)?.title).toBe('abcexe.txt');
});
