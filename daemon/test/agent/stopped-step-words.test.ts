// A step waiting for approval when Errand stops (a restart, a shutdown) is "not run, Errand stopped":
// it said "not run, the task was cancelled" although nobody cancelled anything.
import fs from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon, tempHome } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';

let model: ModelServer | undefined;
const daemons: TestDaemon[] = [];
let home = '';
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop().catch(() => undefined);
  await model?.close();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

it('a step left waiting for approval by a clean stop says Errand stopped, not that the task was cancelled', async () => {
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
  const got = await ws2.send<{ items: Array<{ kind: string; summary?: string; state?: string }> }>({
    type: 'thread.get',
    threadId: thread.id,
  });
  ws2.close();
  const step = got.items.find((i) => i.kind === 'tool');
  expect(step?.summary).toMatch(/not run, Errand stopped$/);
});
