// Two devices answer the same question: exactly one answer is used and the other is refused with
// `conflict` (as a late approval decision is), never acknowledged and then dropped. The run takes an
// answer only once it has a free slot, so until then the question is still open in memory; a second
// answer in that window (or at the same moment) used to be told "ok" while the model got the first.
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Task } from '../../../shared/src/index.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { type Harness, startHarness } from './harness.js';

let server: ModelServer;
let h: Harness | undefined;

beforeEach(async () => {
  server = await startModelServer((req) => {
    const all = JSON.stringify(req.body.messages);
    const answered = /The user answered: (ANSWER-[A-Z])/.exec(all);
    if (answered) return reply(text(`Going with ${answered[1]}.`));
    if (all.includes('Busy work')) return { kind: 'hang' };
    return reply(toolUse('ask_user', { question: 'Which template?' }));
  });
});
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
  await server.close();
});

/** The outcome of a command: 'ok', or its error code and message. */
const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (err: { code: string; message: string }) => `${err.code}: ${err.message}`,
  );

/**
 * A task waiting on its question while another task holds the only slot, so an answer is kept but
 * not yet taken by the run: the window in which a second answer was silently dropped.
 */
async function askedWhileBusy(): Promise<{ task: Task; questionId: string; busy: Task }> {
  h = await startHarness({ modelUrl: server.url, config: { agent: { maxParallelTasks: 1 } } });
  const { task } = await h.send('thread.create', { text: 'Make the report' });
  const asked = await h.waitEvent('question.asked', (e) => e.question.taskId === task.id);
  const before = server.requests.length;
  const { task: busy } = await h.send('thread.create', { text: 'Busy work' });
  await server.waitForRequests(before + 1, 15_000);
  return { task, questionId: asked.question.id, busy };
}

/** Let the run take its answer (free the slot) and see what the model was told. */
async function modelGot(task: Task, busy: Task): Promise<string> {
  await h!.send('task.cancel', { taskId: busy.id });
  const done = await h!.waitTask(task.id, ['done']);
  return done.resultSummary ?? '';
}

it('two answers at once: one is used, the other is a conflict saying it was already answered', async () => {
  const { task, questionId, busy } = await askedWhileBusy();
  const [a, b] = await Promise.all([
    outcome(h!.send('task.answer', { taskId: task.id, questionId, text: 'ANSWER-A' })),
    outcome(h!.send('task.answer', { taskId: task.id, questionId, text: 'ANSWER-B' })),
  ]);
  expect([a, b]).toEqual(['ok', expect.stringMatching(/^conflict: That question was already answered/)]);
  expect(await modelGot(task, busy)).toBe('Going with ANSWER-A.');
  expect(h!.eventsOf('question.answered').filter((e) => e.taskId === task.id)).toHaveLength(1);
  expect(JSON.stringify(server.requests.map((r) => r.body.messages))).not.toContain('ANSWER-B');
});

it('a second answer right after the first was acknowledged is a conflict; the model gets the first', async () => {
  const { task, questionId, busy } = await askedWhileBusy();
  expect(await outcome(h!.send('task.answer', { taskId: task.id, questionId, text: 'ANSWER-A' }))).toBe('ok');
  // The run has not taken the answer yet (no slot): the question is still open in memory.
  expect(await outcome(h!.send('task.answer', { taskId: task.id, questionId, text: 'ANSWER-B' }))).toMatch(
    /^conflict: That question was already answered/,
  );
  expect(await modelGot(task, busy)).toBe('Going with ANSWER-A.');
  // And once the run has taken it, still a conflict that says so.
  expect(await outcome(h!.send('task.answer', { taskId: task.id, questionId, text: 'ANSWER-C' }))).toMatch(
    /^conflict: That question was already answered/,
  );
  expect(h!.eventsOf('question.answered').filter((e) => e.taskId === task.id)).toHaveLength(1);
  const doc = await h!.store.threads.load(task.threadId);
  expect(JSON.stringify(doc)).not.toMatch(/ANSWER-[BC]/);
});
