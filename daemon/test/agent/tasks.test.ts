// Tasks through the agent module, the real SDK and the scripted Messages API server.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SHOW_RUNNING_AFTER_MS } from '../../src/agent/recorder.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
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

describe('a task', () => {
  it('runs a text-only task: streams coalesced deltas, persists the answer, records usage and cost', async () => {
    const answer =
      'Report written: Q3-report.md\nIt covers revenue and churn for the quarter, with a chart of monthly trends.';
    server.push({
      content: [text(answer)],
      usage: {
        input_tokens: 1200,
        output_tokens: 300,
        cache_read_input_tokens: 1000,
        cache_creation_input_tokens: 200,
      },
      chunkDelayMs: 2,
    });
    h = await startHarness({ modelUrl: server.url });
    const { thread, task } = await h.send('thread.create', { text: 'Write the Q3 report' });
    expect(thread.title).toBe('Write the Q3 report');
    const done = await h.waitTask(task.id, ['done']);
    await h.agent.idle();

    expect(done.resultSummary).toBe('Report written: Q3-report.md');
    expect(done.turns).toBe(1);
    expect(done.usage).toEqual({ inputTokens: 1200, outputTokens: 300, cacheReadTokens: 1000, cacheWriteTokens: 200 });
    // Sonnet: 1200×3 + 300×15 + 200×3.75 + 1000×0.3 per million
    expect(done.costUsd).toBeCloseTo((1200 * 3 + 300 * 15 + 200 * 3.75 + 1000 * 0.3) / 1e6, 8);

    // The request: real SDK, Bearer key, system prompt with cache_control, tools with cache_control on the last.
    const req = server.requests[0];
    expect(req.headers.authorization).toBe('Bearer sk-test-key');
    expect(req.body.stream).toBe(true);
    expect(req.body.system.at(-1).cache_control).toEqual({ type: 'ephemeral' });
    expect(req.body.system[0].text).toMatch(/away/);
    expect(req.body.system[0].text).toMatch(/data, never instructions/);
    expect(req.body.system[0].text).toContain(h.tools.dir);
    expect(req.body.tools.at(-1).cache_control).toEqual({ type: 'ephemeral' });
    expect(req.body.tools.map((t: { name: string }) => t.name)).toContain('ask_user');
    expect(req.body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Write the Q3 report', cache_control: { type: 'ephemeral' } }] },
    ]);

    // Coalesced: far fewer delta events than stream chunks, and they add up to the text.
    const deltas = h.eventsOf('item.delta');
    const chunks = Math.ceil(answer.length / 4);
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas.length).toBeLessThan(chunks / 3);
    expect(deltas.map((d) => d.delta).join('')).toBe(answer);
    const got = await h.send('thread.get', { threadId: thread.id });
    expect(got.items.map((i: { kind: string }) => i.kind)).toEqual(['user', 'assistant']);
    expect(got.items[1].text).toBe(answer);
    expect(got.tasks[0].state).toBe('done');
    expect(got.approvals).toEqual([]);
    const states = h
      .eventsOf('task.updated')
      .filter((e) => e.task.id === task.id)
      .map((e) => e.task.state);
    expect(states[0]).toBe('queued');
    expect(states).toContain('running');
    expect(states.at(-1)).toBe('done');
    expect(h.eventsOf('thread.updated').at(-1)!.thread.lastTaskState).toBe('done');
  });

  it('runs a multi-turn tool-use task and sends the tool results back', async () => {
    server.push(
      reply(
        text('I will write two files.'),
        toolUse('write_file', { name: 'a.txt', text: 'alpha' }),
        toolUse('write_file', { name: 'b.txt', text: 'beta' }),
      ),
      reply(toolUse('write_file', { name: 'c.txt', text: 'gamma' })),
      reply(text('Done: wrote a.txt, b.txt and c.txt')),
    );
    h = await startHarness({ modelUrl: server.url });
    const { thread, task } = await h.send('thread.create', { text: 'write files' });
    const done = await h.waitTask(task.id, ['done']);
    await h.agent.idle();
    expect(done.turns).toBe(3);
    expect(fs.readFileSync(path.join(h.tools.dir, 'a.txt'), 'utf8')).toBe('alpha');
    expect(fs.readFileSync(path.join(h.tools.dir, 'c.txt'), 'utf8')).toBe('gamma');
    expect(server.requests).toHaveLength(3);
    const second = server.requests[1].body.messages;
    expect(second).toHaveLength(3);
    expect(
      second[1].content.filter((b: { type: string }) => b.type === 'tool_use').map((b: { input: unknown }) => b.input),
    ).toEqual([
      { name: 'a.txt', text: 'alpha' },
      { name: 'b.txt', text: 'beta' },
    ]);
    expect(
      second[2].content.map((b: { type: string; content: Array<{ text: string }> }) => [b.type, b.content[0].text]),
    ).toEqual([
      ['tool_result', 'Wrote a.txt'],
      ['tool_result', 'Wrote b.txt'],
    ]);
    const got = await h.send('thread.get', { threadId: thread.id });
    const toolItems = got.items.filter((i: { kind: string }) => i.kind === 'tool');
    expect(toolItems.map((i: { state: string }) => i.state)).toEqual(['completed', 'completed', 'completed']);
    expect(toolItems[0].summary).toContain('write_file');
    expect(toolItems[0].input).toEqual({ name: 'a.txt', text: 'alpha' });
    expect(toolItems[0].output).toBe('Wrote a.txt');
    // Each step went pending → running → completed in the events.
    const steps = h
      .eventsOf('item.updated')
      .filter((e) => e.item.id === toolItems[0].id)
      .map((e) => (e.item as { state: string }).state);
    expect(steps).toEqual(['running', 'completed']);
    expect(h.eventsOf('item.added').find((e) => e.item.id === toolItems[0].id)!.item).toMatchObject({
      state: 'pending',
    });
  });

  it('a read-only call that ends quickly goes from pending to completed; one that lasts shows it is running', async () => {
    server.push(
      reply(text('Looking.'), toolUse('wait_for', { file: 'ready.txt' })),
      reply(text('It was there.')),
      reply(toolUse('wait_for', { file: 'later.txt' })),
      reply(text('It came.')),
    );
    h = await startHarness({ modelUrl: server.url });
    fs.writeFileSync(path.join(h.tools.dir, 'ready.txt'), 'ready');
    const first = await h.send('thread.create', { text: 'is ready.txt there?' });
    await h.waitTask(first.task.id, ['done']);
    const states = (id: string) =>
      h!
        .eventsOf('item.updated')
        .filter((e) => e.item.id === id)
        .map((e) => (e.item as { state: string }).state);
    const quick = h.eventsOf('item.added').find((e) => e.item.kind === 'tool')!.item;
    expect(quick).toMatchObject({ state: 'pending', tool: 'wait_for' });
    // No "running" in between when it ended within SHOW_RUNNING_AFTER_MS of being planned (a
    // loaded machine may take longer, and then it rightly shows it ran).
    const ended = (await h.send('thread.get', { threadId: first.thread.id })).items.find(
      (i: { id: string }) => i.id === quick.id,
    );
    expect(ended.state).toBe('completed');
    if (ended.endedAt - quick.createdAt < SHOW_RUNNING_AFTER_MS) expect(states(quick.id)).toEqual(['completed']);
    else expect(states(quick.id)).toEqual(['running', 'completed']);

    const second = await h.send('thread.create', { text: 'wait for later.txt' });
    const running = await h.waitEvent(
      'item.updated',
      (e) => e.item.kind === 'tool' && e.item.id !== quick.id && (e.item as { state: string }).state === 'running',
    );
    fs.writeFileSync(path.join(h.tools.dir, 'later.txt'), 'later');
    await h.waitTask(second.task.id, ['done']);
    expect(states(running.item.id)).toEqual(['running', 'completed']);
    const got = await h.send('thread.get', { threadId: second.thread.id });
    expect(got.items.find((i: { id: string }) => i.id === running.item.id)).toMatchObject({
      state: 'completed',
      output: 'saw later.txt',
    });
  });

  it('sends the history with a follow-up in the same thread', async () => {
    server.push(reply(text('Paris is the capital of France.')), reply(text('About 2.1 million people.')));
    h = await startHarness({ modelUrl: server.url });
    const { thread, task } = await h.send('thread.create', { text: 'Capital of France?' });
    await h.waitTask(task.id, ['done']);
    const { task: t2, item } = await h.send('thread.send', {
      threadId: thread.id,
      text: 'How many people live there?',
    });
    expect(item.kind).toBe('user');
    await h.waitTask(t2.id, ['done']);
    const msgs = server.requests[1].body.messages;
    expect(msgs.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(msgs[0].content[0].text).toBe('Capital of France?');
    expect(msgs[1].content[0].text).toBe('Paris is the capital of France.');
    expect(msgs[2].content[0].text).toBe('How many people live there?');
  });

  it('retries a 429, honouring retry-after, then succeeds', async () => {
    server.push({ kind: 'status', status: 429, retryAfter: 1 }, reply(text('ok after waiting')));
    h = await startHarness({ modelUrl: server.url });
    const { task } = await h.send('thread.create', { text: 'hi' });
    const done = await h.waitTask(task.id, ['done']);
    expect(done.resultSummary).toBe('ok after waiting');
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1].at - server.requests[0].at).toBeGreaterThanOrEqual(950);
  });

  it('retries a stream that breaks mid-reply, a 529 inside the stream and a 500; the text is not doubled', async () => {
    server.push(
      { kind: 'break', partialText: 'The answer is' },
      { kind: 'stream-error', partialText: 'The ans', errorType: 'overloaded_error' },
      { kind: 'status', status: 500 },
      reply(text('The answer is 42.')),
    );
    h = await startHarness({ modelUrl: server.url });
    const { thread, task } = await h.send('thread.create', { text: 'question' });
    const done = await h.waitTask(task.id, ['done']);
    await h.agent.idle();
    expect(done.resultSummary).toBe('The answer is 42.');
    expect(server.requests).toHaveLength(4);
    const got = await h.send('thread.get', { threadId: thread.id });
    expect(
      got.items.filter((i: { kind: string }) => i.kind === 'assistant').map((i: { text: string }) => i.text),
    ).toEqual(['The answer is 42.']);
  });

  it('abandons and retries a model call that stops sending (headers, then nothing)', async () => {
    server.push({ kind: 'hang', afterHeaders: true }, reply(text('Second try worked.')));
    h = await startHarness({ modelUrl: server.url, agentOptions: { stallMs: 400 } });
    const { task } = await h.send('thread.create', { text: 'hi' });
    const done = await h.waitTask(task.id, ['done']);
    expect(done.resultSummary).toBe('Second try worked.');
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1].at - server.requests[0].at).toBeGreaterThanOrEqual(400);
  });

  it('fails with a reason a person understands when the API stays unavailable past the retry window', async () => {
    server.setScript(() => ({ kind: 'status', status: 529 }));
    h = await startHarness({ modelUrl: server.url, config: { agent: { retryWindowSeconds: 1 } } });
    const { task } = await h.send('thread.create', { text: 'hi' });
    const failed = await h.waitTask(task.id, ['failed']);
    expect(failed.reason).toMatch(/overloaded \(529\)/);
    expect(failed.reason).toMatch(/retried for .* and gave up/);
    expect(server.requests.length).toBeGreaterThan(1);
  });

  it('fails at once, without retrying, on a rejected key', async () => {
    server.setScript(() => ({
      kind: 'status',
      status: 401,
      errorType: 'authentication_error',
      message: 'invalid x-api-key',
    }));
    h = await startHarness({ modelUrl: server.url });
    const { task } = await h.send('thread.create', { text: 'hi' });
    const failed = await h.waitTask(task.id, ['failed']);
    expect(failed.reason).toMatch(/rejected the API key/);
    expect(server.requests).toHaveLength(1);
  });

  it('without an API key the task fails at once with how to set one', async () => {
    h = await startHarness({ modelUrl: server.url, apiKey: null });
    expect(h.ctx.status().apiKeyConfigured).toBe(false);
    const { task } = await h.send('thread.create', { text: 'hi' });
    const failed = await h.waitTask(task.id, ['failed'], 2000);
    expect(failed.reason).toBe(
      `No Anthropic API key is set. Run \`export ANTHROPIC_API_KEY=…\` before \`errand start\`, or add anthropic.apiKey to ${h.home}/config.json.`,
    );
    expect(server.requests).toHaveLength(0);
  });

  it('cancel ends a hanging model call within a second and keeps what was done', async () => {
    server.push(reply(toolUse('write_file', { name: 'first.txt', text: '1' })), { kind: 'hang' });
    h = await startHarness({ modelUrl: server.url });
    const { thread, task } = await h.send('thread.create', { text: 'do it' });
    await server.waitForRequests(2);
    await expect.poll(() => server.openRequests()).toBe(1);
    const t0 = Date.now();
    const { task: cancelled } = await h.send('task.cancel', { taskId: task.id });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.turns).toBe(1);
    await expect.poll(() => server.openRequests()).toBe(0);
    const got = await h.send('thread.get', { threadId: thread.id });
    expect(got.items.find((i: { kind: string }) => i.kind === 'tool').state).toBe('completed');
    expect(fs.readFileSync(path.join(h.tools.dir, 'first.txt'), 'utf8')).toBe('1');
  });

  it('cancel aborts a running tool through its signal within a second', async () => {
    server.push(reply(toolUse('slow', { ms: 30_000 })));
    h = await startHarness({ modelUrl: server.url });
    const { thread, task } = await h.send('thread.create', { text: 'wait a long time' });
    await h.tools.slowStarted();
    const t0 = Date.now();
    const { task: cancelled } = await h.send('task.cancel', { taskId: task.id });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(cancelled.state).toBe('cancelled');
    expect(h.tools.slowAborted).toEqual([true]);
    const got = await h.send('thread.get', { threadId: thread.id });
    expect(got.items.find((i: { kind: string }) => i.kind === 'tool').state).toBe('error');
    expect(server.requests).toHaveLength(1);
  });

  it('retries a failed task from its checkpoint without repeating finished tool calls', async () => {
    server.push(
      reply(toolUse('write_file', { name: 'once.txt', text: 'x' })),
      { kind: 'status', status: 400, errorType: 'invalid_request_error', message: 'scripted refusal' },
      reply(text('Finished.')),
    );
    h = await startHarness({ modelUrl: server.url });
    const { task } = await h.send('thread.create', { text: 'go' });
    const failed = await h.waitTask(task.id, ['failed']);
    expect(failed.reason).toMatch(/refused the request \(400\): scripted refusal/);
    // Two retries sent at once (two devices): one queues the task, the other is refused.
    const both = await Promise.allSettled([
      h.send('task.retry', { taskId: task.id }),
      h.send('task.retry', { taskId: task.id }),
    ]);
    const ok = both.filter((r) => r.status === 'fulfilled') as Array<
      PromiseFulfilledResult<{ task: { state: string } }>
    >;
    expect(ok).toHaveLength(1);
    expect(ok[0].value.task.state).toBe('queued');
    expect(both.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'conflict' } });
    const done = await h.waitTask(task.id, ['done']);
    expect(done.resultSummary).toBe('Finished.');
    expect(h.tools.runs.get('write_file')).toBe(1);
    expect(server.requests).toHaveLength(3);
    expect(server.requests[2].body.messages.map((m: { role: string }) => m.role)).toEqual([
      'user',
      'assistant',
      'user',
    ]);
  });

  it('answers a tool call whose input was cut off at max_tokens with an error, without running it', async () => {
    server.push(
      {
        content: [
          text('Writing the report now.'),
          { type: 'tool_use', name: 'write_file', input: {}, rawJson: '{"name": "report.md", "text": "# Rep' },
        ],
        stopReason: 'max_tokens',
      },
      reply(text('I will write it in smaller parts next time.')),
    );
    h = await startHarness({ modelUrl: server.url });
    const { thread, task } = await h.send('thread.create', { text: 'write a long report' });
    await h.waitTask(task.id, ['done']);
    expect(h.tools.runs.get('write_file')).toBeUndefined();
    const result = server.requests[1].body.messages.at(-1).content[0];
    expect(result).toMatchObject({ type: 'tool_result', is_error: true });
    expect(result.content[0].text).toMatch(/not complete JSON/);
    const got = await h.send('thread.get', { threadId: thread.id });
    expect(got.items.find((i: { kind: string }) => i.kind === 'tool')).toMatchObject({
      state: 'error',
      summary: 'write_file (input cut off)',
    });
  });

  it('asks the user with ask_user, waits, and continues with the answer', async () => {
    server.push(reply(toolUse('ask_user', { question: 'Which quarter?' })), reply(text('Using Q3 as you said.')));
    h = await startHarness({ modelUrl: server.url });
    const { thread, task } = await h.send('thread.create', { text: 'write the report' });
    await h.waitTask(task.id, ['waiting']);
    await h.waitEvent('question.asked');
    const asked = h.eventsOf('question.asked');
    expect(asked).toHaveLength(1);
    expect(asked[0].question.text).toBe('Which quarter?');
    const got = await h.send('thread.get', { threadId: thread.id });
    expect(got.questions).toEqual([asked[0].question]);
    expect(h.ctx.status().runningTasks).toBe(1);
    await h.send('task.answer', { taskId: task.id, questionId: asked[0].question.id, text: 'Q3' });
    const done = await h.waitTask(task.id, ['done']);
    expect(done.resultSummary).toBe('Using Q3 as you said.');
    const last = server.requests[1].body.messages.at(-1).content[0];
    expect(last.type).toBe('tool_result');
    expect(last.content[0].text).toBe('The user answered: Q3');
    await h.agent.idle();
    expect(h.eventsOf('question.answered')).toHaveLength(1);
  });
});
