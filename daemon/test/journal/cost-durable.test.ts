// What a model call cost is kept once the next record of the task is written, not only at the turn's
// checkpoint: a reply whose tool runs a long time (a build, a test suite) is billed by then, and a
// kill -9 during that tool lost the call's cost (the task came back having cost $0, and the caps
// never counted it).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { ensureBuilt } from '../agent/build.js';
import { killChildren } from '../helpers/cli.js';
import { type ModelServer, startModelServer, toolUse } from '../helpers/model-server.js';
import { sleepPids, startPairedDaemon } from '../helpers/paired-daemon.js';
import type { WsTestClient } from '../helpers/ws-client.js';

beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 180_000);

let server: ModelServer;
let home: string;
const children: ChildProcess[] = [];
const clients: WsTestClient[] = [];
/** A unique sleep, found by its command line (and killed at the end if the daemon's keeper missed it). */
const secs = `${700 + Math.floor(Math.random() * 1e6) / 1e3}`;
const sleepRuns = () => sleepPids(secs);

beforeEach(async () => {
  server = await startModelServer();
  home = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-cost-durable-')));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killChildren(children);
  for (const pid of sleepRuns()) process.kill(pid, 'SIGKILL');
  await server.close();
  fs.rmSync(home, { recursive: true, force: true });
});

const env = () => ({
  ERRAND_HOME: home,
  ANTHROPIC_BASE_URL: server.url,
  ANTHROPIC_API_KEY: 'sk-test-key',
  ERRAND_MODEL: 'claude-sonnet-4-6',
});

const start = (token?: string) => startPairedDaemon(env(), { children, clients }, { token });

it('kill -9 while the tool of a billed reply runs: after the restart the task has that cost', async () => {
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ shell: { sandbox: 'off' } }), { mode: 0o600 });
  // 200,000 prompt tokens and 2,000 written at Sonnet's $3 and $15 per million: $0.63.
  server.push(
    {
      content: [toolUse('shell', { argv: ['bash', '-c', `sleep ${secs}`] })],
      usage: { input_tokens: 200_000, output_tokens: 2_000 },
    },
    { kind: 'hang' },
  );
  const first = await start();
  const { thread, task } = await first.ws.send<{ thread: { id: string }; task: { id: string } }>({
    type: 'thread.create',
    text: 'Run the long build',
  });
  const billed = await first.ws.event('task.updated', (e) => e.task.id === task.id && e.task.costUsd > 0.6, 20_000);
  expect(billed.task.costUsd).toBeCloseTo(0.63, 2);
  // Approved as a phone would (when the policy asks).
  const requested = await first.ws.event('approval.requested', (e) => e.approval.taskId === task.id, 20_000);
  await first.ws.send({
    type: 'approval.decide',
    approvalId: requested.approval.id,
    hash: requested.approval.hash,
    decision: 'approve',
  });
  for (const end = Date.now() + 20_000; sleepRuns().length === 0; )
    if (Date.now() > end) throw new Error('the command did not start');
    else await new Promise((r) => setTimeout(r, 20));
  first.daemon.child.kill('SIGKILL');
  expect((await first.daemon.exited).signal).toBe('SIGKILL');

  const again = await start(first.token);
  const detail = await again.ws.send<{ tasks: Array<{ id: string; costUsd: number }> }>({
    type: 'thread.get',
    threadId: thread.id,
  });
  expect(detail.tasks.find((t) => t.id === task.id)?.costUsd).toBeCloseTo(0.63, 2);
}, 120_000);
