// A decision acknowledged is kept. approval.decide's reply was committed with the resolved card
// only; the waiting call's outcome was written later, so a kill -9 right after the reply lost it:
// the resumed task asked for the same action again (a "no" the person was told was taken, asked
// again, and ran if anyone approved it then), and a denial's words never reached the model. Now the
// decision on the tool call is in the same journal record as the reply, and the resumed run takes it.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { ThreadSummary } from '../../../shared/src/index.js';
import { ensureBuilt } from '../agent/build.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { Homes } from './helpers.js';

const homes = new Homes();
let model: ModelServer;
const NOTE = 'Stop, only list them';
let marker = '';
beforeAll(async () => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
  model = await startModelServer((req) => {
    const all = JSON.stringify(req.body.messages);
    if (all.includes('Instead, the user said')) return reply(text('Listing them instead, as you said.'));
    if (all.includes('"is_error":false') || all.includes('exit code 0')) return reply(text('Made it.'));
    return reply(toolUse('shell', { argv: ['touch', marker] }, 'toolu_decided_call'));
  });
}, 180_000);
afterEach(() => homes.cleanup());
afterAll(() => model.close());

type Created = { thread: ThreadSummary; task: { id: string } };
const resultsFor = (id: string) =>
  model.requests.flatMap((r) =>
    (r.body.messages as Array<{ content: unknown }>)
      .flatMap((m) => (Array.isArray(m.content) ? (m.content as Array<{ type: string; tool_use_id?: string }>) : []))
      .filter((b) => b.type === 'tool_result' && b.tool_use_id === id),
  );

for (const decision of ['deny', 'approve'] as const)
  it(`kill -9 right after a ${decision} was written and before its reply: the resumed task takes it, not asking again`, async () => {
    const { home, tokens } = await homes.home();
    marker = path.join(home, 'made-by-the-command.txt');
    fs.writeFileSync(
      path.join(home, 'config.json'),
      JSON.stringify({ shell: { sandbox: 'off' }, agent: { autoResume: true } }),
      { mode: 0o600 },
    );
    const env = { ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'sk-test-key', ERRAND_MODEL: 'claude-sonnet-4-6' };
    // The daemon dies right after the decision's record is durable, before anything else is written.
    const first = await homes.start(home, { ...env, ERRAND_TEST_CRASH: 'after-append:decide-cmd-0001' });
    const ws = await homes.connect(first.url, tokens[0], 0);
    const { thread, task } = await ws.send<Created>({ type: 'thread.create', text: 'Make the file' });
    const asked = await ws.event('approval.requested', (e) => e.approval.taskId === task.id, 20_000);
    const cmd = {
      type: 'approval.decide',
      approvalId: asked.approval.id,
      hash: asked.approval.hash,
      decision,
      ...(decision === 'deny' ? { note: NOTE } : {}),
    } as const;
    ws.sendRaw(JSON.stringify({ ...cmd, id: 'decide-cmd-0001' }));
    expect((await first.exited).signal).toBe('SIGKILL');

    const second = await homes.start(home, env);
    const again = await homes.connect(second.url, tokens[0], 0);
    // The resend gets the first reply: the decision was taken.
    const resent = await again.send<{ approval: { state: string } }>(cmd, 'decide-cmd-0001');
    expect(resent.approval.state).toBe(decision === 'deny' ? 'denied' : 'approved');
    const detail = await again.send<{ tasks: Array<{ id: string; state: string }> }>({
      type: 'thread.get',
      threadId: thread.id,
    });
    if (detail.tasks.find((t) => t.id === task.id)?.state === 'interrupted')
      await again.send({ type: 'task.resume', taskId: task.id });
    const ended = await Promise.race([
      again
        // Events replay from the start: the card asked before the crash is not a new question.
        .event(
          'approval.requested',
          (e) => e.approval.taskId === task.id && e.approval.id !== asked.approval.id,
          20_000,
        )
        .then(() => 'asked again' as const),
      again
        .event('task.updated', (e) => e.task.id === task.id && ['done', 'failed'].includes(e.task.state), 20_000)
        .then((e) => e.task.state),
    ]);
    expect(ended).toBe('done');
    const results = JSON.stringify(resultsFor('toolu_decided_call'));
    if (decision === 'deny') {
      expect(results).toContain(`Instead, the user said: \\"${NOTE}\\"`);
      expect(fs.existsSync(marker)).toBe(false);
    } else expect(fs.existsSync(marker)).toBe(true);
  });
