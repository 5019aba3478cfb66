// A call that waited for its approval shows "running" once approved, on the phone (an event) and in
// thread.get, for as long as it runs: the write made while the task waited had saved its step, and
// its "running" was then dropped, leaving it "pending" (shown as waiting) through the whole run.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon, tempHome } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';

let model: ModelServer | undefined;
let td: TestDaemon | undefined;
const folders: string[] = [];
afterEach(async () => {
  await td?.stop();
  await model?.close();
  for (const f of folders.splice(0)) fs.rmSync(f, { recursive: true, force: true });
});

it('an approved call is "running" in events and in thread.get while it runs', async () => {
  model = await startModelServer();
  const outside = tempHome('errand-go-');
  folders.push(outside);
  const go = path.join(outside, 'GO');
  const began = path.join(outside, 'BEGAN');
  td = await startTestDaemon({
    env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: model.url },
    config: { shell: { sandbox: 'off' } },
  });
  // It runs until the test says GO (a bounded wait inside the command: 20 s at most).
  const script = `touch '${began}'; for i in $(seq 1 400); do [ -e '${go}' ] && exit 0; sleep 0.05; done`;
  model.push(reply(toolUse('shell', { argv: ['sh', '-c', script] }, 'toolu_wait')), reply(text('Done.')));
  const phone = await td.connect();
  const { thread, task } = await phone.send<{ thread: { id: string }; task: { id: string } }>({
    type: 'thread.create',
    text: 'wait for go',
  });
  const { approval } = await phone.event('approval.requested', () => true, 20_000);
  await phone.send({ type: 'approval.decide', approvalId: approval.id, hash: approval.hash, decision: 'approve' });
  await phone.event(
    'item.updated',
    (e) => e.item.id === 'toolu_wait' && e.item.kind === 'tool' && e.item.state === 'running',
    20_000,
  );
  const deadline = Date.now() + 20_000;
  while (!fs.existsSync(began)) {
    if (Date.now() > deadline) throw new Error('the approved command did not start');
    await new Promise((r) => setTimeout(r, 10));
  }
  const got = await phone.send<{ items: Array<{ id: string; state?: string }> }>({
    type: 'thread.get',
    threadId: thread.id,
  });
  expect(got.items.find((i) => i.id === 'toolu_wait')?.state).toBe('running');
  fs.writeFileSync(go, '');
  await phone.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
  phone.close();
});
