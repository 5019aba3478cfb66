// A model call that fails and is retried shows the phone a notice in the thread (once per failed
// attempt), kept in the thread file with the task's other items, never doubling the answer.
import fsp from 'node:fs/promises';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ThreadItem } from '../../../shared/src/index.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
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
  if (home) await fsp.rm(home, { recursive: true, force: true });
  home = undefined;
  await server.close();
});

type Item = ThreadItem;
const notices = (items: Item[]) => items.filter((i): i is Extract<Item, { kind: 'notice' }> => i.kind === 'notice');
const assistantTexts = (items: Item[]) => items.flatMap((i) => (i.kind === 'assistant' ? [i.text] : []));

const BUSY = "Claude's servers are busy (HTTP 529); trying again in 1 s.";
const BROKE = "The connection to Claude's servers failed; trying again in 1 s.";
const LIMIT = 'Claude is getting too many requests from this API key (HTTP 429); trying again in 2 s.';

it('shows one notice per retried model call, live and in the thread afterwards, and the answer once', async () => {
  server.push(
    { kind: 'status', status: 529 },
    { kind: 'break', partialText: 'The answer is' },
    { kind: 'status', status: 429, retryAfter: 2 },
    reply(text('The answer is 42.')),
  );
  h = await startHarness({ modelUrl: server.url });
  const { thread, task } = await h.send('thread.create', { text: 'question' });

  // While Errand waits out the 429, the phone has the notice, and so does a fresh thread.get.
  const limit = await h.waitEvent('item.added', (e) => e.item.kind === 'notice' && e.item.text === LIMIT);
  expect(server.requests).toHaveLength(3);
  const during = await h.send('thread.get', { threadId: thread.id });
  expect(notices(during.items).map((n) => n.text)).toEqual([BUSY, BROKE, LIMIT]);
  expect(during.items.find((i: Item) => i.id === limit.item.id)).toEqual(limit.item);
  // The partial words of the broken attempt are cleared while the retry waits.
  expect(assistantTexts(during.items)).toEqual([]);

  const done = await h.waitTask(task.id, ['done']);
  await h.agent.idle();
  expect(done.resultSummary).toBe('The answer is 42.');
  expect(server.requests).toHaveLength(4);

  // Live: exactly one item.added per failed attempt, each a notice of this task, never updated again.
  const added = h.eventsOf('item.added').filter((e) => e.threadId === thread.id && e.item.kind === 'notice');
  expect(notices(added.map((e) => e.item)).map((n) => n.text)).toEqual([BUSY, BROKE, LIMIT]);
  // Retry notices are news only while the task runs: the phone leaves them out once it has ended.
  expect(notices(added.map((e) => e.item)).every((n) => n.transient === true)).toBe(true);
  expect(added.every((e) => e.item.taskId === task.id)).toBe(true);
  expect(new Set(added.map((e) => e.item.id)).size).toBe(3);
  const ids = new Set(added.map((e) => e.item.id));
  expect(h.eventsOf('item.updated').filter((e) => ids.has(e.item.id))).toEqual([]);

  // After the task: the thread has each notice once, then the answer once.
  const after = await h.send('thread.get', { threadId: thread.id });
  expect(after.items.map((i: Item) => i.kind)).toEqual(['user', 'notice', 'notice', 'notice', 'assistant']);
  expect(notices(after.items)).toEqual(added.map((e) => e.item));
  expect(assistantTexts(after.items)).toEqual(['The answer is 42.']);
  // The live answer (deltas of the successful attempt) is not doubled either.
  const answerId = after.items.at(-1).id;
  const streamed = h
    .eventsOf('item.delta')
    .filter((d) => d.itemId === answerId)
    .map((d) => d.delta)
    .join('');
  expect(streamed).toBe('The answer is 42.');

  // In the thread file, not only in memory: a restarted daemon shows the same thread.
  home = h.home;
  await h.stop();
  h = await startHarness({ modelUrl: server.url, home });
  const reloaded = await h.send('thread.get', { threadId: thread.id });
  expect(reloaded.items).toEqual(after.items);
  // The model never saw the notices: they are for the person, not the conversation.
  expect(JSON.stringify(server.requests.map((r) => r.body.messages))).not.toContain('trying again');
});

it('keeps the notice when the task is cancelled while it waits to retry', async () => {
  server.push({ kind: 'status', status: 529, retryAfter: 30 });
  h = await startHarness({ modelUrl: server.url, config: { agent: { retryWindowSeconds: 120 } } });
  const { thread, task } = await h.send('thread.create', { text: 'question' });
  const notice = await h.waitEvent('item.added', (e) => e.item.kind === 'notice');
  expect(notice.item).toMatchObject({
    taskId: task.id,
    text: "Claude's servers are busy (HTTP 529); trying again in 30 s.",
  });
  await h.send('task.cancel', { taskId: task.id });
  await h.waitTask(task.id, ['cancelled']);
  await h.agent.idle();
  const doc = await h.store.threads.load(thread.id);
  expect(notices(doc.items)).toEqual([notice.item]);
  expect(server.requests).toHaveLength(1);
});
