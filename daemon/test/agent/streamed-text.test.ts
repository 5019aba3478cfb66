// Streamed text reaches the phones live, in order with the run's other items, and a short answer
// commits in the same journal record as the task's end (the end does not wait for a flush of its own).
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ServerEvent } from '../../../shared/src/index.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { streamedEvents, streamedText } from '../helpers/streamed-text.js';
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

const inOrder = (hh: Harness) => [...hh.events].sort((a, b) => a.seq - b.seq).map((e) => e.event);
const isDone = (e: ServerEvent) => e.kind === 'task.updated' && e.task.state === 'done';
/** The task's end as the phones get it (the store has it a moment before its record is on disk). */
const doneEvent = (hh: Harness, taskId: string) =>
  hh.waitEvent('task.updated', (e) => e.task.id === taskId && e.task.state === 'done');

it('a long answer streams while the task runs, in deltas that add up to it', async () => {
  const answer = `Findings: ${'the quarter went well, '.repeat(40)}end.`;
  server.push({ content: [text(answer)], chunkDelayMs: 5 }); // ~1.2 s of streaming, deltaIntervalMs 100
  h = await startHarness({ modelUrl: server.url });
  const { task } = await h.send('thread.create', { text: 'Summarise' });
  const first = await h.waitEvent('item.added', (e) => e.item.kind === 'assistant');
  // Shown while the task runs, with part of the text.
  expect(h.eventsOf('task.updated').some((e) => e.task.id === task.id && e.task.state === 'done')).toBe(false);
  expect(first.item).toMatchObject({ kind: 'assistant', text: '' });
  await doneEvent(h, task.id);
  const events = inOrder(h);
  expect(h.eventsOf('item.delta').length).toBeGreaterThan(2);
  expect(
    h
      .eventsOf('item.delta')
      .map((d) => d.delta)
      .join(''),
  ).toBe(answer);
  expect(streamedText(events)).toBe(answer);
});

it('text before tool calls is shown before the tools, and once', async () => {
  server.push(
    reply(text('I will write a file.'), toolUse('write_file', { name: 'a.txt', text: 'alpha' })),
    reply(text('Wrote a.txt.')),
  );
  h = await startHarness({ modelUrl: server.url });
  const { task } = await h.send('thread.create', { text: 'write it' });
  await doneEvent(h, task.id);
  // Each item is announced, then its text follows, before the next item is announced.
  const shown = inOrder(h).flatMap((e) =>
    e.kind === 'item.added' && e.item.kind !== 'user'
      ? [`added ${e.item.kind}`]
      : e.kind === 'item.delta'
        ? [`text ${e.delta}`]
        : [],
  );
  expect(shown).toEqual([
    'added assistant',
    'text I will write a file.',
    'added tool',
    'added assistant',
    'text Wrote a.txt.',
  ]);
  expect(streamedText(inOrder(h))).toBe('I will write a file.Wrote a.txt.');
});

it("a short answer commits in the same journal record as the task's end", async () => {
  server.push(reply(text('Done.')));
  // A loaded machine may take longer than a short interval to reach the task's end.
  h = await startHarness({ modelUrl: server.url, agentOptions: { deltaIntervalMs: 60_000 } });
  const records: ServerEvent[][] = [];
  const stop = h.store.journal.onCommit((r) => records.push(r.events.map((e) => e.event)));
  const { task } = await h.send('thread.create', { text: 'tiny' });
  await doneEvent(h, task.id);
  stop();
  const withText = records.filter((events) => streamedEvents(events).length > 0);
  expect(withText).toHaveLength(1);
  expect(withText[0].some(isDone)).toBe(true);
  expect(streamedText(withText[0])).toBe('Done.');
});
