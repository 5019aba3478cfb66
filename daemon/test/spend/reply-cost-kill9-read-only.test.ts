// A reply's cost survives kill -9 while only a read-only call runs after it. The whole daemon
// (`errand start`, built CLI) in a child process; the scripted model answers with a known usage and
// an fs_list call; the daemon is killed while fs_list runs (ERRAND_TEST_CRASH, once the reply's
// record had time to be durable, as for a call longer than one disk sync). After the restart the
// spend and the task's cost hold the first call; after the resume both calls count once each, and
// the paid reply is not asked for again.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { ensureBuilt } from '../agent/build.js';
import { freePort, killChildren, pairWithCli, spawnDaemon } from '../helpers/cli.js';
import { type ModelServer, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { WsTestClient } from '../helpers/ws-client.js';

beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 180_000);

let server: ModelServer;
let home: string;
const children: ChildProcess[] = [];
const clients: WsTestClient[] = [];

beforeEach(async () => {
  server = await startModelServer();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-reply-cost-kill9-'));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killChildren(children);
  await server.close();
  fs.rmSync(home, { recursive: true, force: true });
});

// Sonnet: $3 per million input tokens, $15 per million output tokens.
const FIRST_USD = (100_000 * 3 + 100 * 15) / 1e6; // $0.3015
const SECOND_USD = (20_000 * 3 + 50 * 15) / 1e6; // $0.06075

type Status = { spend: { todayUsd: number } };
type Thread = { tasks: Array<{ id: string; state: string; costUsd: number }> };

it('kill -9 during a read-only call: the reply already paid for counts after the restart, and once', async () => {
  const port = await freePort();
  const env = {
    ERRAND_HOME: home,
    ANTHROPIC_BASE_URL: server.url,
    ANTHROPIC_API_KEY: 'sk-test-key',
    ERRAND_MODEL: 'claude-sonnet-4-6',
  };
  server.push({
    content: [text('Looking around.'), toolUse('fs_list', { path: '.' })],
    usage: { input_tokens: 100_000, output_tokens: 100 },
  });

  const first = await spawnDaemon({ ...env, ERRAND_TEST_CRASH: 'in-read-only-call:fs_list' }, port);
  children.push(first.child);
  const token = await pairWithCli(env, first.url, 'Reply cost phone', children);
  const ws = await WsTestClient.open(first.url, token);
  clients.push(ws);
  const { thread, task } = await ws.send<{ thread: { id: string }; task: { id: string } }>({
    type: 'thread.create',
    text: 'list the workspace, then say done',
  });
  let timer: NodeJS.Timeout | undefined;
  const killed = await Promise.race([
    first.exited,
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), 30_000);
    }),
  ]);
  clearTimeout(timer);
  expect(killed?.signal, `the daemon did not die at the crash point:\n${first.output()}`).toBe('SIGKILL');
  expect(server.requests).toHaveLength(1);

  server.push({ content: [text('Done.')], usage: { input_tokens: 20_000, output_tokens: 50 } });
  const second = await spawnDaemon(env, port);
  children.push(second.child);
  const ws2 = await WsTestClient.open(second.url, token);
  clients.push(ws2);
  const afterCrash = await ws2.send<Thread>({ type: 'thread.get', threadId: thread.id });
  expect(afterCrash.tasks[0]).toMatchObject({ id: task.id, state: 'interrupted' });
  expect(afterCrash.tasks[0].costUsd).toBeCloseTo(FIRST_USD, 9);
  expect((await ws2.send<Status>({ type: 'status.get' })).spend.todayUsd).toBeCloseTo(FIRST_USD, 9);

  await ws2.send({ type: 'task.resume', taskId: task.id });
  const done = await ws2.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
  // The resumed run lists again (harmless) and goes on from the paid reply: one more call, not two.
  expect(server.requests).toHaveLength(2);
  const resumedWith = server.requests[1].body.messages;
  expect(resumedWith.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user']);
  expect(resumedWith[2].content[0]).toMatchObject({ type: 'tool_result' });
  expect(done.task.costUsd).toBeCloseTo(FIRST_USD + SECOND_USD, 9);
  expect((await ws2.send<Status>({ type: 'status.get' })).spend.todayUsd).toBeCloseTo(FIRST_USD + SECOND_USD, 9);

  second.child.kill('SIGTERM');
  expect((await second.exited).code).toBe(0);
}, 90_000);
