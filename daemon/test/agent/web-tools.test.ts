// The API's web tools (server tools): offered with the configured domains and per-task uses, their
// blocks kept whole in the conversation (across turns and a restart), counted in cost, withdrawn
// (fetch) once the thread is tainted, and turned off for an endpoint that refuses them. Which one a
// clean request offers (never both) is in web-same-turn.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { refusesServerTools, usedByTask, WEB_FETCH_MAX_CONTENT_TOKENS, webTools } from '../../src/agent/web-tools.js';
import type { WireMessage } from '../../src/agent/wire.js';
import { failWritesContaining } from '../helpers/disk-full.js';
import { type ModelServer, type ScriptBlock, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { type Harness, startHarness } from './harness.js';

let server: ModelServer;
let h: Harness | undefined;
let home: string | undefined;
beforeEach(async () => {
  server = await startModelServer();
});
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
  if (home) fs.rmSync(home, { recursive: true, force: true });
  home = undefined;
  await server.close();
});

const WEB = { search: true, fetch: true, allowedDomains: ['example.com', 'docs.example.org'], maxUsesPerTask: 5 };

const searchUse = {
  type: 'server_tool_use',
  id: 'srvtoolu_01',
  name: 'web_search',
};
const searchResult = {
  type: 'web_search_tool_result',
  tool_use_id: 'srvtoolu_01',
  content: [
    {
      type: 'web_search_result',
      url: 'https://example.com/flights',
      title: 'Cheap flights to Lisbon',
      encrypted_content: 'ENC1',
      page_age: 'June 1, 2026',
    },
  ],
};
const citation = {
  type: 'web_search_result_location',
  url: 'https://example.com/flights',
  title: 'Cheap flights to Lisbon',
  encrypted_index: 'IDX1',
  cited_text: 'Lisbon from $99',
};
const webBlocks: ScriptBlock[] = [
  text('Let me search.'),
  { type: 'server', block: searchUse, input: { query: 'cheap flights lisbon' } },
  { type: 'server', block: searchResult },
  { type: 'text', text: 'Flights start at $99.', citations: [citation] },
];

const toolNames = (i: number) => server.requests[i].body.tools.map((t: { name: string }) => t.name);
const tool = (i: number, name: string) => server.requests[i].body.tools.find((t: { name: string }) => t.name === name);

it('offers web search and fetch, keeps their blocks across turns and a restart, counts the cost and withdraws fetch once tainted', async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-web-'));
  server.push(
    {
      content: [...webBlocks, toolUse('write_file', { name: 'a.txt', text: 'a' })],
      usage: { server_tool_use: { web_search_requests: 1 } },
    },
    { content: [text('Done: cheapest is $99.')] },
    { content: [text('Still $99.')] },
  );
  h = await startHarness({ modelUrl: server.url, home, config: { web: WEB } });
  const { thread, task } = await h.send('thread.create', { text: 'find cheap flights' });
  const done = await h.waitTask(task.id, ['done']);

  // First call: search with the allowed domains and the per-task uses; no note. The message gives
  // no URL, so fetch is not offered (never in the same request as search: web-tools.ts).
  expect(tool(0, 'web_search')).toEqual({
    type: 'web_search_20250305',
    name: 'web_search',
    max_uses: 5,
    allowed_domains: ['example.com', 'docs.example.org'],
  });
  expect(toolNames(0)).not.toContain('web_fetch');
  expect(toolNames(0).at(-1)).toBe('ask_user');
  expect(server.requests[0].body.system).toHaveLength(1);

  // Second call: the reply read the web, so fetch is gone and the model is told why; search has one use less.
  expect(toolNames(1)).not.toContain('web_fetch');
  expect(tool(1, 'web_search').max_uses).toBe(4);
  expect(server.requests[1].body.system.at(-1).text).toMatch(/web_fetch tool is not available.*untrusted/s);
  // The server blocks went back exactly as they came (input assembled, result untouched, citations kept).
  const assistant = server.requests[1].body.messages[1];
  expect(assistant.role).toBe('assistant');
  const strip = (b: Record<string, unknown>) => {
    const { cache_control: _, ...rest } = b;
    return rest;
  };
  expect(assistant.content.map(strip).slice(1, 4)).toEqual([
    { ...searchUse, input: { query: 'cheap flights lisbon' } },
    searchResult,
    { type: 'text', text: 'Flights start at $99.', citations: [citation] },
  ]);

  // The phone sees the search as a step (query, titles, links) and the cited source under the answer.
  const got = await h.send('thread.get', { threadId: thread.id });
  const step = got.items.find((i: { kind: string; tool?: string }) => i.kind === 'tool' && i.tool === 'web_search');
  expect(step).toMatchObject({
    id: 'srvtoolu_01',
    summary: 'Searched the web for “cheap flights lisbon”',
    state: 'completed',
    input: {
      query: 'cheap flights lisbon',
      results: [{ title: 'Cheap flights to Lisbon', url: 'https://example.com/flights' }],
    },
  });
  const answer = got.items.find(
    (i: { kind: string; text?: string }) => i.kind === 'assistant' && i.text === 'Flights start at $99.',
  );
  expect(answer.sources).toEqual([{ title: 'Cheap flights to Lisbon', url: 'https://example.com/flights' }]);
  const order = got.items.map((i: { id: string }) => i.id);
  expect(order.indexOf(step.id)).toBeLessThan(order.indexOf(answer.id));

  // Cost: one search ($0.01) on top of the tokens.
  expect(done.usage.webSearches).toBe(1);
  expect(done.costUsd).toBeGreaterThan(0.01);
  expect(done.costUsd).toBeLessThan(0.02);

  // A restart: the follow-up's request still holds the server blocks, and the thread stays tainted.
  await h.stop();
  h = await startHarness({ modelUrl: server.url, home, config: { web: WEB } });
  const next = await h.send('thread.send', { threadId: thread.id, text: 'and now?' });
  await h.waitTask(next.task.id, ['done']);
  const kept = server.requests[2].body.messages[1].content.map(strip);
  expect(kept.slice(1, 3)).toEqual([{ ...searchUse, input: { query: 'cheap flights lisbon' } }, searchResult]);
  expect(toolNames(2)).not.toContain('web_fetch');
  // A new task: its uses start again.
  expect(tool(2, 'web_search').max_uses).toBe(5);
});

it('passes a blocked-domain list when no allow list is set, and offers nothing when both tools are off', async () => {
  server.push({ content: [text('ok')] }, { content: [text('ok')] });
  h = await startHarness({
    modelUrl: server.url,
    config: { web: { search: true, fetch: false, blockedDomains: ['evil.example'] } },
  });
  const { task } = await h.send('thread.create', { text: 'x' });
  await h.waitTask(task.id, ['done']);
  expect(tool(0, 'web_search')).toMatchObject({ blocked_domains: ['evil.example'], max_uses: 10 });
  expect(tool(0, 'web_search').allowed_domains).toBeUndefined();
  expect(toolNames(0)).not.toContain('web_fetch');
  await h.cleanup();
  h = await startHarness({ modelUrl: server.url, config: { web: { search: false, fetch: false } } });
  const second = await h.send('thread.create', { text: 'y' });
  await h.waitTask(second.task.id, ['done']);
  expect(toolNames(1)).toEqual(['write_file', 'slow', 'approve_me', 'big', 'wait_for', 'ask_user']);
});

it('turns the web tools off for an endpoint that refuses them, with a notice, and finishes the task', async () => {
  server.push(
    {
      kind: 'status',
      status: 400,
      errorType: 'invalid_request_error',
      message: "tools.4: Input tag 'web_search_20250305' found using 'type' does not match any of the expected tags",
    },
    { content: [text('Answer without the web.')] },
    { content: [text('Second task.')] },
  );
  h = await startHarness({ modelUrl: server.url, config: { web: WEB } });
  const { thread, task } = await h.send('thread.create', { text: 'search something' });
  const done = await h.waitTask(task.id, ['done']);
  expect(done.state).toBe('done');
  expect(toolNames(0)).toContain('web_search');
  expect(toolNames(1)).not.toContain('web_search');
  expect(toolNames(1)).not.toContain('web_fetch');
  const got = await h.send('thread.get', { threadId: thread.id });
  expect(
    got.items.some((i: { kind: string; text?: string }) => i.kind === 'notice' && /web search/.test(i.text ?? '')),
  ).toBe(true);
  const second = await h.send('thread.create', { text: 'again' });
  await h.waitTask(second.task.id, ['done']);
  expect(toolNames(2)).not.toContain('web_search');
  expect(server.requests).toHaveLength(3);
});

it('gives web fetch back to a tainted task once the user allows it from the phone, and switches the tools in config', async () => {
  server.push(
    { content: [...webBlocks, toolUse('ask_user', { question: 'Read the page too?' })] },
    { content: [text('Read it.')] },
  );
  h = await startHarness({ modelUrl: server.url, config: { web: WEB } });
  const { task } = await h.send('thread.create', { text: 'find flights' });
  const asked = await h.waitEvent('question.asked');
  await h.send('task.allowWebFetch', { taskId: task.id });
  await h.send('task.answer', { taskId: task.id, questionId: asked.question.id, text: 'yes' });
  await h.waitTask(task.id, ['done']);
  expect(toolNames(0)).not.toContain('web_fetch');
  // Tainted by the search results, but allowed: fetch is offered and no note is added.
  expect(toolNames(1)).toContain('web_fetch');
  expect(server.requests[1].body.system).toHaveLength(1);
  await expect(h.send('task.allowWebFetch', { taskId: `${task.id}x` })).rejects.toMatchObject({ code: 'not_found' });

  const set = await h.send('web.set', { fetch: false });
  expect(set.web).toMatchObject({ search: true });
  const saved = JSON.parse(fs.readFileSync(path.join(h.home, 'config.json'), 'utf8'));
  expect(saved.web).toEqual({ fetch: false });
});

it('web.set on a full disk says the disk is full, as other commands do, and changes nothing', async () => {
  h = await startHarness({ modelUrl: server.url });
  const file = path.join(h.home, 'config.json');
  const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  // config.json is written through a temp file: that write fails as on a full disk.
  const full = failWritesContaining('"web"');
  try {
    await expect(h.send('web.set', { fetch: false })).rejects.toMatchObject({
      code: 'unavailable',
      message: `The host could not save this: disk full at ${h.home}. Free some space, then send it again.`,
    });
  } finally {
    full.restore();
  }
  expect(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined).toBe(before);
  await h.send('web.set', { fetch: false });
  expect(JSON.parse(fs.readFileSync(file, 'utf8')).web).toEqual({ fetch: false });
});

it('counts the uses a task made before a resume against its per-task limit', () => {
  const use = (name: string) => ({ type: 'server_tool_use' as const, id: `srv_${name}`, name, input: {} });
  const start: WireMessage = { role: 'user', content: [{ type: 'text', text: 'task two' }] };
  const messages: WireMessage[] = [
    { role: 'user', content: [{ type: 'text', text: 'task one' }] },
    { role: 'assistant', content: [use('web_search'), use('web_search')] },
    start,
    { role: 'assistant', content: [use('web_search'), use('web_fetch')] },
  ];
  const used = usedByTask(messages, start, [use('web_search')]);
  expect(used).toEqual({ searches: 2, fetches: 1 });
  const settings = { search: true, fetch: true, allowedDomains: [], blockedDomains: [], maxUsesPerTask: 2 };
  const next = webTools(settings, { tainted: false, searchesUsed: used.searches, fetchesUsed: used.fetches });
  // Both searches spent: only fetch is offered, with its one use left.
  expect(next.tools).toEqual([
    { type: 'web_fetch_20250910', name: 'web_fetch', max_uses: 1, max_content_tokens: WEB_FETCH_MAX_CONTENT_TOKENS },
  ]);
});

it('keeps the server blocks of a turn left open by a stop, and resumes it with them intact', async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-web-'));
  server.push({
    content: [...webBlocks, toolUse('slow', { ms: 60_000 })],
    usage: { server_tool_use: { web_search_requests: 1 } },
  });
  const config = { web: WEB, agent: { autoResume: false } };
  h = await startHarness({ modelUrl: server.url, home, config });
  const { task } = await h.send('thread.create', { text: 'find flights slowly' });
  await h.tools.slowStarted();
  await h.stop();
  server.push({ content: [text('Resumed with the search.')] });
  h = await startHarness({ modelUrl: server.url, home, config });
  await h.waitTask(task.id, ['interrupted']);
  await h.send('task.resume', { taskId: task.id });
  await h.waitTask(task.id, ['done']);
  const assistant = server.requests[1].body.messages[1];
  const strip = (b: Record<string, unknown>) => {
    const { cache_control: _, ...rest } = b;
    return rest;
  };
  expect(assistant.content.map(strip).slice(1, 3)).toEqual([
    { ...searchUse, input: { query: 'cheap flights lisbon' } },
    searchResult,
  ]);
  // Still tainted after the restart: no fetch; one search of five used.
  expect(toolNames(1)).not.toContain('web_fetch');
  expect(tool(1, 'web_search').max_uses).toBe(4);
});

it('recognises an endpoint refusing the server tools, not a fault in a tool of its own', () => {
  expect(refusesServerTools({ status: 400, message: 'tools.4: Extra inputs are not permitted' }, [4, 5])).toBe(true);
  expect(refusesServerTools({ status: 400, message: 'unknown tool type web_fetch_20250910' }, [4])).toBe(true);
  expect(refusesServerTools({ status: 400, message: 'tools.0.input_schema: invalid' }, [4, 5])).toBe(false);
  expect(refusesServerTools({ status: 400, message: 'tools.45: invalid' }, [4])).toBe(false);
  expect(refusesServerTools({ status: 500, message: 'web_search failed' }, [4])).toBe(false);
});
