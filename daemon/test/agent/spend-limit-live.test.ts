// The per-task spending limit lowered from the phone (spend.set perTaskUsd) while a task runs applies
// at once: the running task asks before its next model call past the new limit, not only the next task.
import { afterEach, expect, it } from 'vitest';
import { nextApprovalOrEnd } from '../helpers/approval-waits.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, startModelServer, text, toolUse } from '../helpers/model-server.js';

let model: ModelServer | undefined;
let td: TestDaemon | undefined;
afterEach(async () => {
  await td?.stop();
  await model?.close();
  td = model = undefined;
});

// 100,000 input tokens on Sonnet: $0.30 per call.
const costly = { input_tokens: 100_000, output_tokens: 0 };

it('a limit lowered mid-task stops the task at the new limit, asking whether it may go on', async () => {
  model = await startModelServer();
  td = await startTestDaemon({
    env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: model.url },
    config: { shell: { sandbox: 'off' }, agent: { maxCostUsd: 10 } },
  });
  model.push(
    { content: [toolUse('shell', { argv: ['true'] })], usage: costly },
    { content: [toolUse('shell', { argv: ['true'] })], usage: costly },
    { content: [toolUse('shell', { argv: ['true'] })], usage: costly },
    { content: [text('All done.')], usage: costly },
  );
  const phone = await td.connect();
  const { task } = await phone.send<{ task: { id: string } }>({ type: 'thread.create', text: 'run things' });
  const seen = new Set<string>();
  const first = await nextApprovalOrEnd(phone, task.id, seen);
  // While the first command waits, the limit goes from $10 to $0.50.
  await phone.send({ type: 'spend.set', perTaskUsd: 0.5 });
  await phone.send({ type: 'approval.decide', approvalId: first!.id, hash: first!.hash, decision: 'allow_task' });
  // Call 2 ($0.60 in all) ran within it ($0.30 < $0.50); call 3 waits for the person.
  const check = await nextApprovalOrEnd(phone, task.id, seen);
  expect(check?.tool).toBe('spending limit');
  expect(check?.summary).toBe('Used $0.60 of $0.50 — continue for +$0.50?');
  expect(model.requests.length).toBe(2);
  await phone.send({ type: 'approval.decide', approvalId: check!.id, hash: check!.hash, decision: 'deny' });
  const ended = await phone.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'failed', 20_000);
  expect(ended.task.reason).toContain('agent.maxCostUsd = $0.50');
});
