// "May this task go on?" answered is kept. The answer to a spending-limit question was acknowledged
// but only the task's next checkpoint held it ("+$X" from here), so a kill -9 right after the reply
// made the resumed task ask the same question again: a "yes" the person was told was taken, asked
// again, and a "no" asked again too. Now the answer is kept with its reply for that question at that
// point of the task, and the resumed run takes it.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { ThreadSummary } from '../../../shared/src/index.js';
import { ensureBuilt } from '../agent/build.js';
import { type ModelServer, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { Homes } from './helpers.js';

const homes = new Homes();
let model: ModelServer;
// 100,000 input tokens on Sonnet: $0.30 per call, so the second call is past a $0.25 limit.
const costly = { input_tokens: 100_000, output_tokens: 0 };
beforeAll(async () => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
  model = await startModelServer((req) => {
    if (JSON.stringify(req.body.messages).includes('tool_result'))
      return { content: [text('Read it.')], usage: costly };
    return { content: [toolUse('fs_read', { path: 'notes.txt' }, 'toolu_read_notes')], usage: costly };
  });
}, 180_000);
afterEach(() => homes.cleanup());
afterAll(() => model.close());

type Created = { thread: ThreadSummary; task: { id: string; state?: string; reason?: string } };

for (const decision of ['approve', 'deny'] as const)
  it(`kill -9 right after "go on?" was answered ${decision}: the resumed task takes the answer, not asking again`, async () => {
    const { home, tokens } = await homes.home();
    fs.mkdirSync(path.join(home, 'workspace'), { recursive: true });
    fs.writeFileSync(path.join(home, 'workspace', 'notes.txt'), 'some notes');
    fs.writeFileSync(
      path.join(home, 'config.json'),
      JSON.stringify({ agent: { autoResume: true, maxCostUsd: 0.25 } }),
      { mode: 0o600 },
    );
    const env = { ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'sk-test-key', ERRAND_MODEL: 'claude-sonnet-4-6' };
    const first = await homes.start(home, { ...env, ERRAND_TEST_CRASH: 'after-append:continue-cmd-0001' });
    const ws = await homes.connect(first.url, tokens[0], 0);
    const { thread, task } = await ws.send<Created>({ type: 'thread.create', text: 'Read my notes' });
    const asked = await ws.event('approval.requested', (e) => e.approval.taskId === task.id, 20_000);
    expect(asked.approval.tool).toBe('spending limit');
    const cmd = {
      type: 'approval.decide',
      approvalId: asked.approval.id,
      hash: asked.approval.hash,
      decision,
    } as const;
    ws.sendRaw(JSON.stringify({ ...cmd, id: 'continue-cmd-0001' }));
    expect((await first.exited).signal).toBe('SIGKILL');

    const second = await homes.start(home, env);
    const again = await homes.connect(second.url, tokens[0], 0);
    const resent = await again.send<{ approval: { state: string } }>(cmd, 'continue-cmd-0001');
    expect(resent.approval.state).toBe(decision === 'deny' ? 'denied' : 'approved');
    const detail = await again.send<{ tasks: Array<{ id: string; state: string }> }>({
      type: 'thread.get',
      threadId: thread.id,
    });
    if (detail.tasks.find((t) => t.id === task.id)?.state === 'interrupted')
      await again.send({ type: 'task.resume', taskId: task.id });
    const ended = await Promise.race([
      // Events replay from the start: the card asked before the crash is not a new question.
      again
        .event(
          'approval.requested',
          (e) => e.approval.taskId === task.id && e.approval.id !== asked.approval.id,
          20_000,
        )
        .then(() => 'asked again' as const),
      again
        .event('task.updated', (e) => e.task.id === task.id && ['done', 'failed'].includes(e.task.state), 20_000)
        .then((e) => e.task),
    ]);
    expect(ended).not.toBe('asked again');
    const end = ended as { state: string; reason?: string };
    if (decision === 'approve') {
      expect(end.state).toBe('done');
      expect(
        model.requests.filter((r) => JSON.stringify(r.body.messages).includes('toolu_read_notes')).length,
      ).toBeGreaterThan(0);
    } else {
      expect(end.state).toBe('failed');
      expect(end.reason).toContain('You chose to stop it.');
    }
  });

it('a Retry after "no" asks again: a kept answer is for the run it was given in', async () => {
  const { home, tokens } = await homes.home();
  fs.mkdirSync(path.join(home, 'workspace'), { recursive: true });
  fs.writeFileSync(path.join(home, 'workspace', 'notes.txt'), 'some notes');
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ agent: { maxCostUsd: 0.25 } }), { mode: 0o600 });
  const env = { ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'sk-test-key', ERRAND_MODEL: 'claude-sonnet-4-6' };
  const daemon = await homes.start(home, env);
  const ws = await homes.connect(daemon.url, tokens[0], 0);
  const { task } = await ws.send<Created>({ type: 'thread.create', text: 'Read my notes' });
  const asked = await ws.event('approval.requested', (e) => e.approval.taskId === task.id, 20_000);
  await ws.send({
    type: 'approval.decide',
    approvalId: asked.approval.id,
    hash: asked.approval.hash,
    decision: 'deny',
  });
  await ws.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'failed', 20_000);
  await ws.send({ type: 'task.retry', taskId: task.id });
  // Asked again, the same question, and this time the person lets it go on.
  const again = await ws.event(
    'approval.requested',
    (e) => e.approval.taskId === task.id && e.approval.id !== asked.approval.id,
    20_000,
  );
  expect(again.approval.summary).toBe(asked.approval.summary);
  await ws.send({
    type: 'approval.decide',
    approvalId: again.approval.id,
    hash: again.approval.hash,
    decision: 'approve',
  });
  const done = await ws.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
  expect(done.task.state).toBe('done');
});
