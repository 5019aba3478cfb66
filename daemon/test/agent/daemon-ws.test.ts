// The agent inside the real daemon (in this process), driven by a paired device over the WebSocket.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, startModelServer, text } from '../helpers/model-server.js';

let server: ModelServer;
let d: TestDaemon | undefined;
beforeEach(async () => {
  server = await startModelServer();
});
afterEach(async () => {
  await d?.stop();
  d = undefined;
  await server.close();
});

it('a phone creates a thread, watches the answer stream in, and reads it back', async () => {
  server.push({ content: [text('Here is the summary.\nThree points follow.')], chunkDelayMs: 3 });
  d = await startTestDaemon({
    env: { ANTHROPIC_API_KEY: 'sk-test-key', ANTHROPIC_BASE_URL: server.url, ERRAND_MODEL: 'claude-sonnet-4-6' },
  });
  const ws = await d.connect();
  const status = await ws.send<{ apiKeyConfigured: boolean; model: string; runningTasks: number }>({
    type: 'status.get',
  });
  expect(status).toMatchObject({ apiKeyConfigured: true, model: 'claude-sonnet-4-6', runningTasks: 0 });
  const { thread, task } = await ws.send<{ thread: { id: string }; task: { id: string } }>({
    type: 'thread.create',
    text: 'Summarise my notes',
  });
  const done = await ws.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done');
  expect(done.task.resultSummary).toBe('Here is the summary.');
  const deltas = ws
    .events()
    .filter((f) => f.event.kind === 'item.delta')
    .map((f) => (f.event as { delta: string }).delta)
    .join('');
  expect(deltas).toBe('Here is the summary.\nThree points follow.');
  const seqs = ws.events().map((f) => f.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  const got = await ws.send<{ items: Array<{ kind: string; text?: string }> }>({
    type: 'thread.get',
    threadId: thread.id,
  });
  expect(got.items.map((i) => [i.kind, i.text])).toEqual([
    ['user', 'Summarise my notes'],
    ['assistant', 'Here is the summary.\nThree points follow.'],
  ]);
  const list = await ws.send<Array<{ id: string; lastTaskState: string }>>({ type: 'threads.list' });
  expect(list).toEqual([expect.objectContaining({ id: thread.id, lastTaskState: 'done' })]);
});

it('without an API key the daemon runs normally and a task fails at once saying how to set one', async () => {
  d = await startTestDaemon({ env: { ANTHROPIC_BASE_URL: server.url } });
  const ws = await d.connect();
  const status = await ws.send<{ apiKeyConfigured: boolean }>({ type: 'status.get' });
  expect(status.apiKeyConfigured).toBe(false);
  const { task } = await ws.send<{ task: { id: string } }>({ type: 'thread.create', text: 'hello' });
  const failed = await ws.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'failed');
  expect(failed.task.reason).toBe(
    `No Anthropic API key is set. Run \`export ANTHROPIC_API_KEY=…\` before \`errand start\`, or add anthropic.apiKey to ${d.home}/config.json.`,
  );
  expect(server.requests).toHaveLength(0);
});
