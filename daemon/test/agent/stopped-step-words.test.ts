// A step waiting for approval when Errand stops cleanly (a restart, a shutdown) never ran: it is
// neither "cancelled" (nobody cancelled anything) nor denied (nobody decided), and resuming the task
// asks the approval again, as after a crash. Recorded as denied, the reply's later calls ran without it.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon, tempHome } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';

let model: ModelServer | undefined;
const daemons: TestDaemon[] = [];
let home = '';
const roots: string[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop().catch(() => undefined);
  await model?.close();
  if (home) fs.rmSync(home, { recursive: true, force: true });
  for (const r of roots.splice(0)) fs.rmSync(r, { recursive: true, force: true });
});

it('a step left waiting for approval by a clean stop is not run, not denied or cancelled; resume asks again', async () => {
  model = await startModelServer();
  home = tempHome();
  const opts = {
    home,
    env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: model.url },
    config: { shell: { sandbox: 'off' }, agent: { autoResume: false } },
  };
  model.push(reply(toolUse('shell', { argv: ['touch', 'made-by-step'] })), reply(text('ok')));
  const first = await startTestDaemon(opts);
  daemons.push(first);
  const ws = await first.connect();
  const { thread } = await ws.send<{ thread: { id: string } }>({ type: 'thread.create', text: 'touch it' });
  await ws.event('approval.requested', () => true, 20_000);
  ws.close();
  await first.stop();
  daemons.splice(0);

  const again = await startTestDaemon(opts);
  daemons.push(again);
  const ws2 = await again.connect();
  const got = await ws2.send<{
    tasks: Array<{ id: string }>;
    items: Array<{ kind: string; summary?: string; state?: string }>;
  }>({
    type: 'thread.get',
    threadId: thread.id,
  });
  const step = got.items.find((i) => i.kind === 'tool');
  expect(step?.state).toBe('pending');
  expect(step?.summary ?? '').not.toMatch(/cancelled/);
  await ws2.send({ type: 'task.resume', taskId: got.tasks[0].id });
  const asked = await ws2.event('approval.requested', () => true, 20_000);
  expect(asked.approval.summary).toMatch(/touch/);
  ws2.close();
});

it('a command cut by a clean stop says Errand was stopping, not that the task was cancelled', async () => {
  model = await startModelServer();
  home = tempHome();
  // Outside the home: Errand's own folder is never a root.
  const ws0 = fs.mkdtempSync(`${tempHome('errand-stop-root-')}/root-`);
  roots.push(path.dirname(ws0));
  const opts = {
    home,
    env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: model.url },
    config: { shell: { sandbox: 'off' }, roots: [ws0], agent: { autoResume: false } },
  };
  model.push(reply(toolUse('shell', { argv: ['sh', '-c', 'echo started > started.txt; sleep 30'], cwd: ws0 })));
  const first = await startTestDaemon(opts);
  daemons.push(first);
  const ws = await first.connect();
  const { thread } = await ws.send<{ thread: { id: string } }>({ type: 'thread.create', text: 'run it' });
  const { approval } = await ws.event('approval.requested', () => true, 20_000);
  await ws.send({ type: 'approval.decide', approvalId: approval.id, hash: approval.hash, decision: 'approve' });
  for (let i = 0; i < 200 && !fs.existsSync(`${ws0}/started.txt`); i++) await new Promise((r) => setTimeout(r, 50));
  expect(fs.existsSync(`${ws0}/started.txt`)).toBe(true);
  ws.close();
  await first.stop();
  daemons.splice(0);

  const again = await startTestDaemon(opts);
  daemons.push(again);
  const ws2 = await again.connect();
  const got = await ws2.send<{ items: Array<{ kind: string; summary?: string; output?: string }> }>({
    type: 'thread.get',
    threadId: thread.id,
  });
  const step = got.items.find((i) => i.kind === 'tool');
  const said = `${step?.summary ?? ''}\n${step?.output ?? ''}`;
  expect(said).toContain('Errand was stopping');
  expect(said).not.toMatch(/cancelled/);
  ws2.close();
});
