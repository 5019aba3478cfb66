// An acknowledged answer is kept. task.answer's reply is committed at once, but the run that asked
// may wait a while for a free slot before the answer reaches the conversation; a kill -9 then lost
// it (the task came back asking the same question, and the phone, told "ok", never sent it again).
// Now the answer is in the same journal record as the reply, and the resumed run takes it.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Question, ThreadSummary } from '../../../shared/src/index.js';
import { ensureBuilt } from '../agent/build.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { Homes } from './helpers.js';

const homes = new Homes();
let model: ModelServer;
const ANSWER = 'Use the blue template';
beforeAll(async () => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
  model = await startModelServer((req) => {
    const all = JSON.stringify(req.body.messages);
    if (all.includes(`The user answered: ${ANSWER}`)) return reply(text('Done with the blue template.'));
    if (all.includes('Busy work')) return { kind: 'hang' };
    return reply(toolUse('ask_user', { question: 'Which template?' }));
  });
}, 180_000);
afterEach(() => homes.cleanup());
afterAll(() => model.close());

type Created = { thread: ThreadSummary; task: { id: string } };

it('kill -9 after task.answer was acknowledged, while the run waited for a slot: the resumed task has the answer', async () => {
  const { home, tokens } = await homes.home();
  // One run at a time: while the question waits, another task takes the slot.
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ agent: { maxParallelTasks: 1 } }), { mode: 0o600 });
  const env = { ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'sk-test-key', ERRAND_MODEL: 'claude-sonnet-4-6' };
  const first = await homes.start(home, env);
  const ws = await homes.connect(first.url, tokens[0], 0);
  const { thread, task } = await ws.send<Created>({ type: 'thread.create', text: 'Make the report' });
  const asked = await ws.event('question.asked', (e) => e.question.taskId === task.id);
  const before = model.requests.length;
  const busy = await ws.send<Created>({ type: 'thread.create', text: 'Busy work' });
  await model.waitForRequests(before + 1, 15_000);
  expect(JSON.stringify(model.requests.at(-1)!.body.messages)).toContain('Busy work');
  await ws.send(
    { type: 'task.answer', taskId: task.id, questionId: asked.question.id, text: ANSWER },
    'answer-cmd-0001',
  );
  first.child.kill('SIGKILL');
  await first.exited;

  const second = await homes.start(home, env);
  const again = await homes.connect(second.url, tokens[0], 0);
  // The resend is the same command: its first reply, and nothing runs twice.
  await again.send(
    { type: 'task.answer', taskId: task.id, questionId: asked.question.id, text: ANSWER },
    'answer-cmd-0001',
  );
  const detail = await again.send<{ tasks: Array<{ id: string; state: string }>; questions: Question[] }>({
    type: 'thread.get',
    threadId: thread.id,
  });
  expect(detail.tasks.find((t) => t.id === task.id)?.state).toBe('interrupted');
  await again.send({ type: 'task.cancel', taskId: busy.task.id });
  await again.send({ type: 'task.resume', taskId: task.id });
  const done = await again.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
  expect(done.task.resultSummary).toBe('Done with the blue template.');
  // Not asked again.
  expect(
    again.events().filter((e) => e.event.kind === 'question.asked' && e.event.question.taskId === task.id),
  ).toHaveLength(1);
}, 90_000);

it('a clean stop while the answered run waits for a slot: the task resumes at the next start with the answer', async () => {
  const { home, tokens } = await homes.home();
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ agent: { maxParallelTasks: 1 } }), { mode: 0o600 });
  const env = { ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'sk-test-key', ERRAND_MODEL: 'claude-sonnet-4-6' };
  const first = await homes.start(home, env);
  const ws = await homes.connect(first.url, tokens[0], 0);
  const { task } = await ws.send<Created>({ type: 'thread.create', text: 'Make the slides' });
  const asked = await ws.event('question.asked', (e) => e.question.taskId === task.id);
  const before = model.requests.length;
  const busy = await ws.send<Created>({ type: 'thread.create', text: 'Busy work' });
  await model.waitForRequests(before + 1, 15_000);
  await ws.send({ type: 'task.answer', taskId: task.id, questionId: asked.question.id, text: ANSWER });
  first.child.kill('SIGTERM');
  expect((await first.exited).code).toBe(0);

  const second = await homes.start(home, env);
  const again = await homes.connect(second.url, tokens[0], 0);
  await again.send({ type: 'task.cancel', taskId: busy.task.id });
  const done = await again.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
  expect(done.task.resultSummary).toBe('Done with the blue template.');
  expect(
    again.events().filter((e) => e.event.kind === 'question.asked' && e.event.question.taskId === task.id),
  ).toHaveLength(1);
}, 90_000);

it('kill -9 right after the answer is durable, while the run took it at once: the resumed task has the answer', async () => {
  const { home, tokens } = await homes.home();
  const env = { ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'sk-test-key', ERRAND_MODEL: 'claude-sonnet-4-6' };
  const first = await homes.start(home, { ...env, ERRAND_TEST_CRASH: 'after-append:answer-cmd-0002' });
  const ws = await homes.connect(first.url, tokens[0], 0);
  const { thread, task } = await ws.send<Created>({ type: 'thread.create', text: 'Make the poster' });
  const asked = await ws.event('question.asked', (e) => e.question.taskId === task.id);
  // A free slot: the run takes the answer at once. The crash comes after the answer's record is
  // durable and before its reply leaves (the kill the phone cannot tell from one just after it).
  ws.sendRaw(
    JSON.stringify({
      type: 'task.answer',
      id: 'answer-cmd-0002',
      taskId: task.id,
      questionId: asked.question.id,
      text: ANSWER,
    }),
  );
  expect((await first.exited).signal).toBe('SIGKILL');

  const second = await homes.start(home, env);
  const again = await homes.connect(second.url, tokens[0], 0);
  await again.send(
    { type: 'task.answer', taskId: task.id, questionId: asked.question.id, text: ANSWER },
    'answer-cmd-0002',
  );
  const detail = await again.send<{ tasks: Array<{ id: string; state: string }>; questions: Question[] }>({
    type: 'thread.get',
    threadId: thread.id,
  });
  expect(detail.questions).toEqual([]); // answered: not shown as open
  if (detail.tasks.find((t) => t.id === task.id)?.state === 'interrupted')
    await again.send({ type: 'task.resume', taskId: task.id });
  const done = await again.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
  expect(done.task.resultSummary).toBe('Done with the blue template.');
  // Not asked again (the replay from 0 holds the first asking only).
  const askings = again
    .events()
    .flatMap((e) => (e.event.kind === 'question.asked' && e.event.question.taskId === task.id ? [e.event] : []));
  expect(askings.map((e) => e.question.id)).toEqual([asked.question.id]);
}, 90_000);
