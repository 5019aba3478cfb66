// What the model writes is shown without the known secrets: a hostile Messages API (it receives the
// API key with every request) can echo the key, or a connector's secret, in its own text, its
// thinking, an ask_user question or a tool call. Phones and the thread's items get [redacted]; a
// secret split across streamed deltas is never shown in part; an approval shows [redacted] yet
// binds to the real action; what goes back to the API (the conversation) stays as written.
// Web results: every string but the opaque ones is redacted, and redacted before it is cut.
import fs from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { LiveText } from '../../src/agent/model-call.js';
import { redactText, secretReach } from '../../src/tools/redact.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, text, toolUse } from '../helpers/model-server.js';
import { API_KEY, CONNECTOR_SECRET, runToDone, startWithSecrets } from '../helpers/secrets-daemon.js';
import { streamedText } from '../helpers/streamed-text.js';

let model: ModelServer | undefined;
let td: TestDaemon | undefined;
const folders: string[] = [];
afterEach(async () => {
  await td?.stop();
  td = undefined;
  await model?.close();
  for (const f of folders.splice(0)) fs.rmSync(f, { recursive: true, force: true });
});

/** Pieces of the secrets: none may reach a phone, whole or in part. */
const FRAGMENTS = ['sk-ant-api', 'SECRETSECRET', '0123456789', 'mail-token', '7f3a9c2e4b1d'];

async function start(config: Record<string, unknown> = {}) {
  const started = await startWithSecrets(config, 'errand-model-secrets-');
  ({ model, td } = started);
  folders.push(started.home);
  return started;
}

const noFragments = (what: string, sent: string) => {
  for (const f of FRAGMENTS) expect(sent, `${what} holds "${f}"`).not.toContain(f);
};

it('streamed text split anywhere: what is shown is always a prefix of the redacted whole, and ends equal to it', () => {
  const secrets = { values: [API_KEY, CONNECTOR_SECRET], tokenHashes: new Set<string>() };
  const redact = Object.assign((t: string) => redactText(t, secrets), { reach: secretReach(secrets) });
  const hex = Buffer.from(API_KEY).toString('hex');
  const whole = `Here ${API_KEY} and ${CONNECTOR_SECRET}, hex ${hex}, end ${API_KEY}`;
  const expected = redact(whole);
  expect(expected).toBe('Here [redacted] and [redacted], hex [redacted], end [redacted]');
  for (const size of [1, 2, 3, 4, 7, 13, 40]) {
    const live = new LiveText(redact, redact.reach - 1);
    let shown = '';
    for (let i = 0; i < whole.length; i += size) {
      shown += live.add(whole.slice(i, i + size));
      // Never a secret in part: what the phone has is always the start of the redacted text.
      expect(expected.startsWith(shown), `chunks of ${size}: ${shown}`).toBe(true);
    }
    const { text: ended, rest } = live.end();
    expect(ended).toBe(expected);
    expect(shown + rest).toBe(expected);
  }
});

it('prose streams a word behind, not the length of a secret behind', () => {
  const secrets = { values: [API_KEY, CONNECTOR_SECRET], tokenHashes: new Set<string>() };
  const redact = Object.assign((t: string) => redactText(t, secrets), { reach: secretReach(secrets) });
  const live = new LiveText(redact, redact.reach - 1);
  // Shorter than any secret's reach: only the word still being written waits.
  expect(live.add('The report is ready and the tot')).toBe('The report is ready and the ');
  expect(live.add('als match. ')).toBe('totals match. ');
  expect(live.end()).toEqual({ text: 'The report is ready and the totals match. ', rest: '' });
});

it('text, thinking, a question and a tool call holding known secrets: redacted for phones and items, kept as written for the API', async () => {
  const { phone, opts } = await start({ shell: { sandbox: 'off' } });
  const thinking = `The key is ${API_KEY}.`;
  const said = `model text says ${API_KEY} and ${CONNECTOR_SECRET}.`;
  model!.push(
    {
      content: [
        { type: 'thinking', thinking, signature: 'sig-abc' },
        text(said),
        toolUse('ask_user', { question: `Is ${API_KEY} yours?` }, 'toolu_q'),
      ],
      // Slow enough that the phone gets the text in several item.delta frames (one per 250 ms).
      chunkDelayMs: 40,
    },
    reply(toolUse('shell', { argv: ['echo', CONNECTOR_SECRET] }, 'toolu_sh')),
    reply(text('done')),
  );
  const made = await phone.send<{ thread: { id: string }; task: { id: string } }>({
    type: 'thread.create',
    text: 'go',
  });
  const asked = await phone.event('question.asked', (e) => e.question.taskId === made.task.id, 20_000);
  expect(asked.question.text).toBe('Is [redacted] yours?');
  await phone.send({ type: 'task.answer', taskId: made.task.id, questionId: asked.question.id, text: 'no' });

  // The approval shows [redacted], and the decision made on what it shows runs the real command.
  const approval = (await phone.event('approval.requested', (e) => e.approval.taskId === made.task.id, 20_000))
    .approval;
  expect(approval.summary).toContain('[redacted]');
  expect(approval.action).toMatchObject({ argv: ['echo', '[redacted]'] });
  await phone.send({ type: 'approval.decide', approvalId: approval.id, hash: approval.hash, decision: 'approve' });
  await phone.event('task.updated', (e) => e.task.id === made.task.id && e.task.state === 'done', 20_000);

  const events = phone.events().map((f) => f.event);
  const textItem = events.find(
    (e) => e.kind === 'item.updated' && e.item.kind === 'assistant' && e.item.text.startsWith('model text'),
  );
  expect(textItem && streamedText(events, (textItem as { item: { id: string } }).item.id)).toBe(
    'model text says [redacted] and [redacted].',
  );
  const got = await phone.send<{ items: Array<Record<string, any>> }>({ type: 'thread.get', threadId: made.thread.id });
  expect(got.items.find((i) => i.kind === 'thought')?.text).toBe('The key is [redacted].');
  const shell = got.items.find((i) => i.kind === 'tool' && i.tool === 'shell');
  expect(shell?.input).toMatchObject({ argv: ['echo', '[redacted]'] });
  expect(shell?.state).toBe('completed');
  expect(got.items.find((i) => i.kind === 'tool' && i.tool === 'ask_user')?.summary).toBe(
    'Asked: Is [redacted] yours?',
  );
  noFragments('phone frames', JSON.stringify(phone.frames));
  noFragments('thread.get', JSON.stringify(got));

  // What the API gets back is the reply as it came: thinking (signed), text and the calls' input.
  const back = JSON.stringify(model!.requests[1].body.messages);
  expect(back).toContain(JSON.stringify(thinking));
  expect(back).toContain(JSON.stringify(said));
  expect(back).toContain(`Is ${API_KEY} yours?`);
  expect(JSON.stringify(model!.requests[2].body.messages)).toContain(JSON.stringify(['echo', CONNECTOR_SECRET]));

  // The thread's stored items hold no secret either: a restarted daemon shows the same.
  await td!.stop();
  td = await startTestDaemon({ ...opts, config: undefined });
  const phone2 = await td.connect();
  const stored = await phone2.send({ type: 'thread.get', threadId: made.thread.id });
  noFragments('stored items', JSON.stringify(stored));
});

it('web results: page_age, a document context, a content source and any citation field are redacted; opaque fields are kept; a secret at the length cut is not shown in part', async () => {
  const { phone } = await start();
  // The key straddles the 2000 characters a step keeps of a URL.
  const longUrl = `https://a.example/${'x'.repeat(2000 - 'https://a.example/'.length - 10)}${API_KEY}`;
  const searchResult = {
    type: 'web_search_result',
    title: 'T',
    url: longUrl,
    page_age: `age ${API_KEY}`,
    encrypted_content: `enc${API_KEY}`,
  };
  const citation = {
    type: 'web_search_result_location',
    url: 'https://a.example/',
    title: 'T',
    encrypted_index: `idx${API_KEY}`,
    cited_text: 'quoted',
    note: `note ${CONNECTOR_SECRET}`,
  };
  model!.push(
    reply(
      {
        type: 'server',
        block: { type: 'server_tool_use', id: 'srvtoolu_s1', name: 'web_search' },
        input: { query: 'q' },
      },
      {
        type: 'server',
        block: { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_s1', content: [searchResult] },
      },
      { type: 'text', text: 'Found it.', citations: [citation] },
    ),
  );
  const made = await phone.send<{ thread: { id: string }; task: { id: string } }>({
    type: 'thread.create',
    text: 'search',
  });
  await phone.event('task.updated', (e) => e.task.id === made.task.id && e.task.state === 'done', 20_000);
  model!.push(
    reply(
      {
        type: 'server',
        block: { type: 'server_tool_use', id: 'srvtoolu_f1', name: 'web_fetch' },
        input: { url: 'https://b.example/' },
      },
      {
        type: 'server',
        block: {
          type: 'web_fetch_tool_result',
          tool_use_id: 'srvtoolu_f1',
          content: {
            type: 'web_fetch_result',
            url: 'https://b.example/',
            retrieved_at: '2026-01-01T00:00:00Z',
            content: {
              type: 'document',
              context: `ctx ${API_KEY}`,
              title: 'B',
              source: { type: 'content', content: [{ type: 'text', text: `content-source ${CONNECTOR_SECRET}` }] },
            },
          },
        },
      },
      text('read it'),
    ),
  );
  const made2 = await phone.send<{ thread: { id: string }; task: { id: string } }>({
    type: 'thread.create',
    text: 'read https://b.example/',
  });
  await phone.event('task.updated', (e) => e.task.id === made2.task.id && e.task.state === 'done', 20_000);
  // Each thread's next request carries the web results back.
  model!.push(reply(text('ok')), reply(text('ok')));
  await runToDone(phone, { type: 'thread.send', threadId: made.thread.id, text: 'more' });
  await runToDone(phone, { type: 'thread.send', threadId: made2.thread.id, text: 'more' });

  const blocks = model!.requests.flatMap((r) =>
    (r.body.messages as Array<{ role: string; content: Array<Record<string, any>> }>).flatMap((m) =>
      Array.isArray(m.content) ? m.content : [],
    ),
  );
  const search = blocks.find((b) => b.type === 'web_search_tool_result');
  expect(search?.content[0].page_age).toBe('age [redacted]');
  expect(search?.content[0].url).toBe(longUrl.replace(API_KEY, '[redacted]'));
  expect(search?.content[0].encrypted_content).toBe(`enc${API_KEY}`);
  const cited = blocks.find((b) => b.type === 'text' && b.citations)?.citations[0];
  expect(cited).toEqual({ ...citation, note: 'note [redacted]' });
  const fetched = blocks.find((b) => b.type === 'web_fetch_tool_result');
  expect(fetched?.content.content.context).toBe('ctx [redacted]');
  expect(fetched?.content.content.source.content[0].text).toBe('content-source [redacted]');
  noFragments('phone frames', JSON.stringify(phone.frames));
});
