// Web fetch withdrawn in a tainted thread can be allowed wherever it was withdrawn (audit s21 #2):
// the task whose request withheld it gets a notice the phone draws the Allow control on, also
// when the task ended asking; allowing on an ended task goes on in a new task that may fetch, and
// allowing a task still going is said in the thread once.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  FETCH_ALLOWED_GO_ON,
  FETCH_ALLOWED_NOTICE,
  FETCH_WITHDRAWN_NOTICE,
} from '../../../shared/src/web-fetch-words.js';
import { type ModelServer, type ScriptBlock, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { fetchedPage } from '../helpers/web-steps.js';
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

const WEB = { search: true, fetch: true, maxUsesPerTask: 5 };

const fetched = (id: string, url: string) => fetchedPage(id, url, 'hello', 'A');
const searched = (id: string): ScriptBlock[] => [
  { type: 'server', block: { type: 'server_tool_use', id, name: 'web_search' }, input: { query: 'b' } },
  {
    type: 'server',
    block: {
      type: 'web_search_tool_result',
      tool_use_id: id,
      content: [{ type: 'web_search_result', url: 'https://example.com/b', title: 'B', encrypted_content: 'E' }],
    },
  },
];

const webNames = (i: number) =>
  server.requests[i].body.tools.map((t: { name: string }) => t.name).filter((n: string) => n.startsWith('web_'));
const noticesOf = async (threadId: string, taskId: string, words: string) =>
  (await h!.send('thread.get', { threadId })).items.filter(
    (i: { kind: string; taskId?: string; text?: string }) =>
      i.kind === 'notice' && i.taskId === taskId && i.text === words,
  );

it('a task that ended with fetch withdrawn says so, and allowing it goes on in a new task that may fetch', async () => {
  server.push(
    { content: [...fetched('srvtoolu_a', 'https://example.com/a'), text('Page A says hello.')] },
    { content: [text('Please allow web fetch for this task from your phone.')] },
    { content: [...fetched('srvtoolu_b', 'https://example.com/b'), text('Page B says hello.')] },
  );
  h = await startHarness({ modelUrl: server.url, config: { web: WEB } });
  const first = await h.send('thread.create', { text: 'read https://example.com/a' });
  const threadId = first.thread.id;
  await h.waitTask(first.task.id, ['done']);
  // It read the page it was given and ended: nothing was withheld from it, so nothing to allow.
  expect(await noticesOf(threadId, first.task.id, FETCH_WITHDRAWN_NOTICE)).toHaveLength(0);

  const second = await h.send('thread.send', { threadId, text: 'now read https://example.com/b' });
  await h.waitTask(second.task.id, ['done']);
  expect(webNames(1)).toEqual(['web_search']);
  expect(await noticesOf(threadId, second.task.id, FETCH_WITHDRAWN_NOTICE)).toHaveLength(1);

  // The person taps Allow on the ended task: the thread goes on, with fetch offered from the start.
  const allowed = await h.send('task.allowWebFetch', { taskId: second.task.id });
  expect(allowed.task.id).not.toBe(second.task.id);
  await h.waitTask(allowed.task.id, ['done']);
  expect(webNames(2)).toEqual(['web_search', 'web_fetch']);
  expect(JSON.stringify(server.requests[2].body.system)).not.toMatch(/web_fetch tool is not available/);
  const got = await h.send('thread.get', { threadId });
  expect(got.items.filter((i: { kind: string }) => i.kind === 'user').at(-1)).toMatchObject({
    taskId: allowed.task.id,
    text: FETCH_ALLOWED_GO_ON,
  });
  expect(await noticesOf(threadId, allowed.task.id, FETCH_WITHDRAWN_NOTICE)).toHaveLength(0);

  // Per task: a second tap (another device), or one on an older task, starts nothing more.
  await expect(h.send('task.allowWebFetch', { taskId: second.task.id })).rejects.toMatchObject({ code: 'conflict' });
  await expect(h.send('task.allowWebFetch', { taskId: first.task.id })).rejects.toMatchObject({ code: 'conflict' });
  // The next message is a task of its own: fetch is withheld again.
  server.push({ content: [text('ok')] });
  const later = await h.send('thread.send', { threadId, text: 'and https://example.com/c?' });
  await h.waitTask(later.task.id, ['done']);
  expect(webNames(3)).toEqual(['web_search']);
  expect(server.requests).toHaveLength(4);
});

it('a task waiting on a question after reading the web shows the notice at once; allowing it is said once', async () => {
  server.push(
    { content: [...searched('srvtoolu_s'), toolUse('ask_user', { question: 'May I read B?' })] },
    { content: [toolUse('write_file', { name: 'b.txt', text: 'b' })] },
    { content: [text('Read it.')] },
  );
  h = await startHarness({ modelUrl: server.url, config: { web: WEB } });
  const { thread, task } = await h.send('thread.create', { text: 'find b' });
  const asked = await h.waitEvent('question.asked');
  // Before any further request: the person can allow while the task waits.
  expect(await noticesOf(thread.id, task.id, FETCH_WITHDRAWN_NOTICE)).toHaveLength(1);
  await h.send('task.allowWebFetch', { taskId: task.id });
  const again = await h.send('task.allowWebFetch', { taskId: task.id });
  expect(again.task.id).toBe(task.id);
  expect(await noticesOf(thread.id, task.id, FETCH_ALLOWED_NOTICE)).toHaveLength(1);
  await h.send('task.answer', { taskId: task.id, questionId: asked.question.id, text: 'yes' });
  await h.waitTask(task.id, ['done']);
  expect(webNames(1)).toContain('web_fetch');
  expect(webNames(2)).toContain('web_fetch');
  // Said once for the task, however many requests it made.
  expect(await noticesOf(thread.id, task.id, FETCH_WITHDRAWN_NOTICE)).toHaveLength(1);
  expect(server.requests).toHaveLength(3);
});

it('a tainted task that makes several requests says fetch is off once', async () => {
  server.push(
    { content: [...fetched('srvtoolu_a', 'https://example.com/a'), text('A.')] },
    { content: [toolUse('write_file', { name: 'x.txt', text: 'x' })] },
    { content: [toolUse('write_file', { name: 'y.txt', text: 'y' })] },
    { content: [text('Done.')] },
  );
  h = await startHarness({ modelUrl: server.url, config: { web: WEB } });
  const first = await h.send('thread.create', { text: 'read https://example.com/a' });
  await h.waitTask(first.task.id, ['done']);
  const next = await h.send('thread.send', { threadId: first.thread.id, text: 'write two files' });
  await h.waitTask(next.task.id, ['done']);
  expect(server.requests).toHaveLength(4);
  expect(await noticesOf(first.thread.id, next.task.id, FETCH_WITHDRAWN_NOTICE)).toHaveLength(1);
});

it('a task resumed after a stop does not say fetch is off a second time', async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-web-allow-'));
  try {
    server.push(
      { content: [...searched('srvtoolu_s'), toolUse('ask_user', { question: 'May I read B?' })] },
      { content: [text('Done.')] },
    );
    h = await startHarness({ modelUrl: server.url, home, config: { web: WEB } });
    const { thread, task } = await h.send('thread.create', { text: 'find b' });
    await h.waitEvent('question.asked');
    expect(await noticesOf(thread.id, task.id, FETCH_WITHDRAWN_NOTICE)).toHaveLength(1);
    await h.stop();
    h = await startHarness({ modelUrl: server.url, home, config: { web: WEB } });
    const asked = await h.waitEvent('question.asked');
    await h.send('task.answer', { taskId: task.id, questionId: asked.question.id, text: 'yes' });
    await h.waitTask(task.id, ['done']);
    expect(webNames(1)).toEqual(['web_search']);
    expect(await noticesOf(thread.id, task.id, FETCH_WITHDRAWN_NOTICE)).toHaveLength(1);
  } finally {
    await h?.cleanup();
    h = undefined;
    fs.rmSync(home, { recursive: true, force: true });
  }
});

it('a thread tainted only by an attached file shows no fetch card until a page is in play', async () => {
  server.push({ content: [text('The notes say hi.')] }, { content: [text('I cannot read that page yet.')] });
  h = await startHarness({ modelUrl: server.url, config: { web: WEB } });
  const notes = await h.ctx.uploads.save(h.cc.device.id, 'notes.txt', 'text/plain', Buffer.from('my notes'));
  const first = await h.send('thread.create', { text: 'Summarise my notes', attachmentIds: [notes.id] });
  const threadId = first.thread.id;
  await h.waitTask(first.task.id, ['done']);
  // The file taints the thread (no fetch is offered), but no page is in play: no card to allow one.
  expect(webNames(0)).toEqual(['web_search']);
  expect(await noticesOf(threadId, first.task.id, FETCH_WITHDRAWN_NOTICE)).toHaveLength(0);

  // The person gives a URL: now the withheld fetch matters, and the card says so.
  const second = await h.send('thread.send', { threadId, text: 'Now read https://example.com/c' });
  await h.waitTask(second.task.id, ['done']);
  expect(webNames(1)).toEqual(['web_search']);
  expect(await noticesOf(threadId, second.task.id, FETCH_WITHDRAWN_NOTICE)).toHaveLength(1);
});
