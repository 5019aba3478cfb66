// A reply is bounded as a whole, server tool results included: a web fetch result comes whole in one
// block and is kept whole in the conversation, so a page of tens of megabytes (which the API's own
// max_content_tokens would never send) is refused with a clear error instead of being stored.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { MAX_REPLY_CHARS } from '../../src/agent/model-call.js';
import { type ModelServer, startModelServer, text } from '../helpers/model-server.js';
import { type Harness, startHarness } from './harness.js';

let server: ModelServer;
let h: Harness | undefined;
beforeEach(async () => {
  server = await startModelServer();
});
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
  await server.close();
});

const fetchUse = { type: 'server_tool_use', id: 'srvtoolu_big', name: 'web_fetch' };
const fetchResult = (page: string) => ({
  type: 'web_fetch_tool_result',
  tool_use_id: 'srvtoolu_big',
  content: {
    type: 'web_fetch_result',
    url: 'https://example.com/page',
    content: { type: 'document', source: { type: 'text', media_type: 'text/plain', data: page } },
  },
});

it('fails a reply whose web fetch result is over the reply bound, saying why, and keeps a normal one', async () => {
  server.push(
    {
      content: [
        { type: 'server', block: fetchUse, input: { url: 'https://example.com/page' } },
        { type: 'server', block: fetchResult('x'.repeat(MAX_REPLY_CHARS + 1000)) },
        text('Read it.'),
      ],
    },
    {
      content: [
        { type: 'server', block: fetchUse, input: { url: 'https://example.com/page' } },
        { type: 'server', block: fetchResult('a normal page') },
        text('Read it.'),
      ],
    },
  );
  h = await startHarness({ modelUrl: server.url, config: { web: { search: false, fetch: true } } });
  const big = await h.send('thread.create', { text: 'read https://example.com/page' });
  const failed = await h.waitTask(big.task.id, ['failed']);
  expect(failed.reason).toContain(`over ${MAX_REPLY_CHARS.toLocaleString('en')} characters`);
  const { thread } = await h.send('thread.get', { threadId: big.thread.id });
  expect(JSON.stringify(thread).length).toBeLessThan(100_000); // the page was not kept

  const normal = await h.send('thread.create', { text: 'read https://example.com/page' });
  await h.waitTask(normal.task.id, ['done']);
});

it('counts every part of a reply toward the bound: a thinking signature, citations, thinking sent whole', async () => {
  const huge = 'x'.repeat(MAX_REPLY_CHARS + 1000);
  const citations = Array.from({ length: 40 }, (_, i) => ({
    type: 'web_search_result_location',
    url: `https://example.com/${i}`,
    title: 'A page',
    cited_text: 'y'.repeat(Math.ceil(MAX_REPLY_CHARS / 40)),
    encrypted_index: 'abc',
  }));
  server.push(
    { content: [{ type: 'thinking', thinking: 'Let me think.', signature: huge }, text('Done.')] },
    { content: [{ type: 'text', text: 'As the pages say.', citations }] },
    { content: [{ type: 'server', block: { type: 'thinking', thinking: huge, signature: 'sig' } }, text('Done.')] },
  );
  h = await startHarness({ modelUrl: server.url });
  for (const what of ['a signature', 'citations', 'thinking whole in its first event']) {
    const made = await h.send('thread.create', { text: `Reply with ${what}` });
    const failed = await h.waitTask(made.task.id, ['failed', 'done']);
    expect({ what, state: failed.state, reason: failed.reason }).toMatchObject({
      what,
      state: 'failed',
      reason: expect.stringContaining(`over ${MAX_REPLY_CHARS.toLocaleString('en')} characters`),
    });
    const { thread } = await h.send('thread.get', { threadId: made.thread.id });
    expect(JSON.stringify(thread).length).toBeLessThan(100_000);
  }
});
