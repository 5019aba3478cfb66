// The whole daemon, as a user runs it: `errand start` (built CLI) with the real tools, a paired
// device on the WebSocket, kill -9 mid-task, start again, the task is interrupted, and resuming it
// finishes without running the finished tool call again (the audit log shows one fs_write).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { freePort, killChildren, pairWithCli, spawnDaemon } from '../helpers/cli.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { WsTestClient } from '../helpers/ws-client.js';
import { ensureBuilt } from './build.js';

beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 120_000);

let server: ModelServer;
let home: string;
const children: ChildProcess[] = [];
const clients: WsTestClient[] = [];

beforeEach(async () => {
  server = await startModelServer();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-daemon-crash-'));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killChildren(children);
  await server.close();
  fs.rmSync(home, { recursive: true, force: true });
});

const pair = (env: Record<string, string>, url: string) => pairWithCli(env, url, 'Crash test phone', children);

it('kill -9 of `errand start` mid-task: interrupted after restart, resume completes without repeating the finished tool call', async () => {
  const port = await freePort();
  const env = {
    ERRAND_HOME: home,
    ANTHROPIC_BASE_URL: server.url,
    ANTHROPIC_API_KEY: 'sk-test-key',
    ERRAND_MODEL: 'claude-sonnet-4-6',
  };
  server.push(reply(text('Writing the file.'), toolUse('fs_write', { path: 'one.txt', content: 'written once' })), {
    kind: 'hang',
  });

  const first = await spawnDaemon(env, port);
  children.push(first.child);
  const token = await pair(env, first.url);
  const ws = await WsTestClient.open(first.url, token);
  clients.push(ws);
  const { thread, task } = await ws.send<{ thread: { id: string }; task: { id: string } }>({
    type: 'thread.create',
    text: 'write one.txt, then continue',
  });
  await server.waitForRequests(2, 20_000);
  const written = path.join(home, 'workspace', 'one.txt');
  expect(fs.readFileSync(written, 'utf8')).toBe('written once');
  first.child.kill('SIGKILL');
  expect((await first.exited).signal).toBe('SIGKILL');

  server.push(reply(text('Resumed: one.txt is written.')));
  const second = await spawnDaemon(env, port);
  children.push(second.child);
  const ws2 = await WsTestClient.open(second.url, token);
  clients.push(ws2);
  const got = await ws2.send<{
    tasks: Array<{ id: string; state: string; reason?: string }>;
    items: Array<{ kind: string; state?: string }>;
  }>({ type: 'thread.get', threadId: thread.id });
  expect(got.tasks[0]).toMatchObject({
    id: task.id,
    state: 'interrupted',
    reason: 'Errand stopped unexpectedly while this task was running',
  });
  expect(
    got.items.find((i) => i.kind === 'tool'),
    JSON.stringify(got.items),
  ).toMatchObject({ state: 'completed' });
  expect(server.requests).toHaveLength(2);

  await ws2.send({ type: 'task.resume', taskId: task.id });
  const done = await ws2.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
  expect(done.task.resultSummary).toBe('Resumed: one.txt is written.');
  const resumedWith = server.requests[2].body.messages;
  expect(resumedWith.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user']);
  expect(resumedWith[2].content[0]).toMatchObject({ type: 'tool_result' });
  expect(resumedWith[2].content[0].is_error).toBeUndefined();
  const { entries } = await ws2.send<{ entries: Array<{ tool: string }> }>({ type: 'task.audit', taskId: task.id });
  expect(entries.filter((e) => e.tool === 'fs_write')).toHaveLength(1);
  expect(fs.readFileSync(written, 'utf8')).toBe('written once');

  second.child.kill('SIGTERM');
  expect((await second.exited).code).toBe(0);
}, 90_000);
