// Web results are tool output: known secrets in them (the API key, a connector's secret) are
// replaced by [redacted] before they are stored, sent to a phone or sent back to the model, as for
// any other tool. What the API needs back as it came (a search result's encrypted_content) is left
// alone, and a result without a secret goes back byte-identical.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, text } from '../helpers/model-server.js';
import { API_KEY, CONNECTOR_SECRET, runToDone, startWithSecrets } from '../helpers/secrets-daemon.js';

let model: ModelServer | undefined;
let td: TestDaemon | undefined;
const folders: string[] = [];
afterEach(async () => {
  await td?.stop();
  td = undefined;
  await model?.close();
  for (const f of folders.splice(0)) fs.rmSync(f, { recursive: true, force: true });
});

const SECRETS = [API_KEY, CONNECTOR_SECRET];

/** A daemon whose API key and connector secret are known, with a phone connected. */
async function start() {
  const started = await startWithSecrets();
  ({ model, td } = started);
  folders.push(started.home);
  return started;
}

/** Files under `dir` holding `needle`, but those that keep the secrets by design. */
function filesHolding(dir: string, needle: string): string[] {
  const out: string[] = [];
  for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) {
    if (f === 'config.json' || f === 'secrets.json') continue;
    const p = path.join(dir, f);
    const st = fs.lstatSync(p);
    if (st.isFile() && fs.readFileSync(p, 'latin1').includes(needle)) out.push(f);
  }
  return out;
}

/** The web result blocks request `i` sent back to the model. */
const resultBlocks = (i: number) =>
  (model!.requests[i].body.messages as Array<{ content: Array<{ type: string }> }>)
    .flatMap((m) => m.content)
    .filter((b) => b.type === 'web_fetch_tool_result' || b.type === 'web_search_tool_result');

it('a fetched page holding known secrets in its URL, title and text: redacted in steps, events, store and the conversation', async () => {
  const { home, phone } = await start();
  model!.push(
    reply(
      {
        type: 'server',
        block: { type: 'server_tool_use', id: 'srvtoolu_f', name: 'web_fetch' },
        input: { url: 'https://evil.example/c' },
      },
      {
        type: 'server',
        block: {
          type: 'web_fetch_tool_result',
          tool_use_id: 'srvtoolu_f',
          content: {
            type: 'web_fetch_result',
            url: `https://evil.example/c?k=${API_KEY}`,
            retrieved_at: '2026-01-01T00:00:00Z',
            content: {
              type: 'document',
              source: {
                type: 'text',
                media_type: 'text/plain',
                data: `your key is ${API_KEY}; mail ${CONNECTOR_SECRET}`,
              },
              title: `Title ${CONNECTOR_SECRET}`,
            },
          },
        },
      },
      {
        type: 'text',
        text: 'The page lists keys.',
        citations: [
          {
            type: 'char_location',
            cited_text: `your key is ${API_KEY}`,
            document_index: 0,
            document_title: `Title ${CONNECTOR_SECRET}`,
            start_char_index: 0,
            end_char_index: 53,
          },
        ],
      },
    ),
    reply(text('ok')),
  );
  const made = await runToDone(phone, { type: 'thread.create', text: 'read https://evil.example/c' });
  await runToDone(phone, { type: 'thread.send', threadId: made.thread.id, text: 'and now?' });

  const got = await phone.send<{ items: Array<Record<string, unknown>> }>({
    type: 'thread.get',
    threadId: made.thread.id,
  });
  const step = got.items.find((i) => i.kind === 'tool') as Record<string, any>;
  expect(step.summary).toBe('Read Title [redacted]');
  expect(step.input).toEqual({ url: 'https://evil.example/c?k=[redacted]', title: 'Title [redacted]' });

  // What the model gets back with the next request: the page without the secrets.
  const [page] = resultBlocks(1) as Array<Record<string, any>>;
  expect(page.content.url).toBe('https://evil.example/c?k=[redacted]');
  expect(page.content.content.title).toBe('Title [redacted]');
  expect(page.content.content.source.data).toBe('your key is [redacted]; mail [redacted]');
  expect(page.content.retrieved_at).toBe('2026-01-01T00:00:00Z');
  const said = (model!.requests[1].body.messages as Array<{ content: Array<Record<string, any>> }>)
    .flatMap((m) => m.content)
    .find((b) => b.type === 'text' && b.citations);
  expect(said?.citations).toEqual([
    {
      type: 'char_location',
      cited_text: 'your key is [redacted]',
      document_index: 0,
      document_title: 'Title [redacted]',
      start_char_index: 0,
      end_char_index: 53,
    },
  ]);

  const sent = JSON.stringify([got, phone.events(), model!.requests[1].body.messages]);
  for (const secret of SECRETS) {
    expect(sent).not.toContain(secret);
    expect(filesHolding(home, secret)).toEqual([]);
  }
});

it('search results: a title and URL holding a secret are redacted, encrypted_content and clean results go back as they came', async () => {
  const { home, phone } = await start();
  const leaking = {
    type: 'web_search_result',
    url: `https://a.example/?token=${CONNECTOR_SECRET}`,
    title: `Keys: ${API_KEY}`,
    encrypted_content: 'EqgfCioIARgBIiQ3YTAwMjY1Mi1mZjM5LTQ1NGUtODgxNC1kNjNjNTk1ZWI3Y',
    page_age: 'April 30, 2025',
  };
  const clean = {
    type: 'web_search_result',
    url: 'https://b.example/',
    title: 'Nothing to see',
    encrypted_content: 'Z2l2ZSBtZSBiYWNrIGFzIEkgY2FtZQ',
    page_age: null,
  };
  const citation = {
    type: 'web_search_result_location',
    url: leaking.url,
    title: leaking.title,
    encrypted_index: 'EpMBCioIAhgBIiQyYjQ0OWJmZi1lNm',
    cited_text: `The key ${API_KEY} is`,
  };
  model!.push(
    reply(
      {
        type: 'server',
        block: { type: 'server_tool_use', id: 'srvtoolu_s', name: 'web_search' },
        input: { query: 'keys' },
      },
      {
        type: 'server',
        block: { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_s', content: [leaking, clean] },
      },
      { type: 'text', text: 'Found two.', citations: [citation] },
    ),
    reply(text('ok')),
  );
  const made = await runToDone(phone, { type: 'thread.create', text: 'search for keys' });
  await runToDone(phone, { type: 'thread.send', threadId: made.thread.id, text: 'and now?' });

  const [search] = resultBlocks(1) as Array<Record<string, any>>;
  expect(search.content).toEqual([
    { ...leaking, url: 'https://a.example/?token=[redacted]', title: 'Keys: [redacted]' },
    clean,
  ]);
  // Byte-identical where nothing was secret: the clean result and the opaque parts.
  expect(JSON.stringify(search.content[1])).toBe(JSON.stringify(clean));
  expect(search.content[0].encrypted_content).toBe(leaking.encrypted_content);
  const said = (model!.requests[1].body.messages as Array<{ content: Array<Record<string, any>> }>)
    .flatMap((m) => m.content)
    .find((b) => b.type === 'text' && b.citations);
  expect(said?.citations).toEqual([
    {
      ...citation,
      url: 'https://a.example/?token=[redacted]',
      title: 'Keys: [redacted]',
      cited_text: 'The key [redacted] is',
    },
  ]);

  const got = await phone.send<{ items: Array<Record<string, unknown>> }>({
    type: 'thread.get',
    threadId: made.thread.id,
  });
  const step = got.items.find((i) => i.kind === 'tool') as Record<string, any>;
  expect(step.input.results).toEqual([
    { title: 'Keys: [redacted]', url: 'https://a.example/?token=[redacted]' },
    { title: 'Nothing to see', url: 'https://b.example/' },
  ]);
  const answer = got.items.find((i) => i.kind === 'assistant') as Record<string, any>;
  expect(answer.sources).toEqual([{ title: 'Keys: [redacted]', url: 'https://a.example/?token=[redacted]' }]);
  const sent = JSON.stringify([got, phone.events(), model!.requests[1].body.messages]);
  for (const secret of SECRETS) {
    expect(sent).not.toContain(secret);
    expect(filesHolding(home, secret)).toEqual([]);
  }
});

it('a page holding no secret goes back to the model byte-identical', async () => {
  const { phone } = await start();
  const result = {
    type: 'web_fetch_tool_result',
    tool_use_id: 'srvtoolu_p',
    content: {
      type: 'web_fetch_result',
      url: 'https://example.com/',
      retrieved_at: '2026-01-01T00:00:00Z',
      content: { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'hello' }, title: 'Hi' },
    },
  };
  model!.push(
    reply(
      {
        type: 'server',
        block: { type: 'server_tool_use', id: 'srvtoolu_p', name: 'web_fetch' },
        input: { url: 'https://example.com/' },
      },
      { type: 'server', block: result },
      text('It says hello.'),
    ),
    reply(text('ok')),
  );
  const made = await runToDone(phone, { type: 'thread.create', text: 'read https://example.com/' });
  await runToDone(phone, { type: 'thread.send', threadId: made.thread.id, text: 'and now?' });
  expect(JSON.stringify(resultBlocks(1)[0])).toBe(JSON.stringify(result));
});
