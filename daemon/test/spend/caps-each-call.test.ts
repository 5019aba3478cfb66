// Daily and monthly caps hold before every model call of a running task: approving one cap lets the
// task past that cap only (that day or month, for one more cap's worth), and calls of tasks running
// side by side count against a cap while they are still going, so together they pass it by one call
// at most, not one call each. Real agent, store and approvals, with the scripted model server.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Approval } from '../../../shared/src/index.js';
import { startSpend } from '../../src/spend/index.js';
import { Approvals } from '../../src/tools/approvals.js';
import { askToContinue } from '../../src/tools/ask-to-continue.js';
import { type Harness, startHarness, testTools } from '../agent/harness.js';
import { type ModelServer, type ScriptReply, startModelServer, text, toolUse } from '../helpers/model-server.js';

let server: ModelServer;
let h: Harness | undefined;
let approvals: Approvals | undefined;
const stops: Array<() => Promise<void>> = [];
const dirs: string[] = [];

beforeEach(async () => {
  server = await startModelServer();
});
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
  approvals?.stop();
  approvals = undefined;
  await h?.cleanup();
  h = undefined;
  await server.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

// 10,000 input tokens on Sonnet: $0.03 per call.
const costly = { input_tokens: 10_000, output_tokens: 0 };
const write = (name: string): ScriptReply => ({
  content: [toolUse('write_file', { name, text: name })],
  usage: costly,
});

async function boot(config: Record<string, unknown>, canAsk = true) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-caps-call-'));
  dirs.push(dir);
  const tools = testTools(path.join(dir, 'files'));
  if (canAsk) {
    approvals = new Approvals(
      (e) => h!.ctx.emit(e),
      () => 30,
    );
    tools.runtime.askToContinue = askToContinue(approvals);
  }
  h = await startHarness({ modelUrl: server.url, config: config as never, tools });
  return h;
}

/** The `n`th question (1-based) asked for the task. */
async function question(taskId: string, n: number): Promise<Approval> {
  await h!.waitEvent('approval.requested', () => questions(taskId).length >= n);
  return questions(taskId)[n - 1];
}
const questions = (taskId: string) =>
  h!
    .eventsOf('approval.requested')
    .map((e) => e.approval)
    .filter((a) => a.taskId === taskId);
const approve = (a: Approval) => approvals!.decide(a.id, a.hash, 'approve', { id: 'dev_test', name: 'Test phone' });
const deny = (a: Approval) => approvals!.decide(a.id, a.hash, 'deny', { id: 'dev_test', name: 'Test phone' });

it("approving today's cap does not approve this month's, and covers one more cap's worth only", async () => {
  server.push(write('a'), write('b'), write('c'), write('d'), write('e'), { content: [text('Done.')] });
  await boot({ spend: { dailyUsd: 0.05, monthlyUsd: 0.08 }, agent: { maxCostUsd: null } });
  const spend = h!.add(startSpend(h!.ctx, h!.agent));
  stops.push(() => spend.stop());
  const { task } = await h!.send('thread.create', { text: 'Write files' });

  // $0.06 after two calls: today's cap.
  const daily = await question(task.id, 1);
  expect(daily.summary).toMatch(
    /^Today's spending cap is reached \(\$0\.06 of \$0\.05\).* Let this task go on anyway\?$/,
  );
  expect(server.requests).toHaveLength(2);
  approve(daily);

  // $0.09 after one more: this month's cap is a question of its own.
  const monthly = await question(task.id, 2);
  expect(monthly.summary).toMatch(/^This month's spending cap is reached \(\$0\.09 of \$0\.08\)/);
  expect(server.requests).toHaveLength(3);
  approve(monthly);

  // Today's approval covered $0.05 more (up to $0.11): at $0.12 it is asked again.
  const dailyAgain = await question(task.id, 3);
  expect(dailyAgain.summary).toMatch(/^Today's spending cap is reached \(\$0\.12 of \$0\.05\)/);
  expect(server.requests).toHaveLength(4);
  deny(dailyAgain);
  expect((await h!.waitTask(task.id, ['failed'])).reason).toMatch(
    /^Today's spending cap is reached .* You chose to stop it\.$/,
  );
  expect(server.requests).toHaveLength(4);
});

it("approving a day's cap does not approve the next day's", async () => {
  let clock = new Date(2026, 5, 10, 22, 0).getTime();
  const firstUser = (body: any) => JSON.stringify(body?.messages?.[0]?.content ?? '');
  server.setScript((req) => {
    if (firstUser(req.body).includes('Other work'))
      return { content: [text('Other done.')], usage: { input_tokens: 20_000 } };
    return (
      [write('a'), write('b'), { content: [text('Done.')] }][req.body.messages.length >> 1] ?? {
        content: [text('Done.')],
      }
    );
  });
  await boot({ spend: { dailyUsd: 0.05 }, agent: { maxCostUsd: null } });
  const spend = h!.add(startSpend(h!.ctx, h!.agent, () => clock));
  stops.push(() => spend.stop());
  const { task } = await h!.send('thread.create', { text: 'Write files' });
  const first = await question(task.id, 1);
  expect(first.summary).toMatch(/^Today's spending cap is reached \(\$0\.06 of \$0\.05\)/);

  // The next day another task spends $0.06 before the first one's question is answered.
  clock += 24 * 3_600_000;
  const { task: other } = await h!.send('thread.create', { text: 'Other work' });
  expect((await h!.waitTask(other.id, ['done'])).costUsd).toBeCloseTo(0.06, 3);
  approve(first);

  const next = await question(task.id, 2);
  expect(next.summary).toMatch(/^Today's spending cap is reached \(\$0\.06 of \$0\.05\)/);
  deny(next);
  await h!.waitTask(task.id, ['failed']);
  // The first task's two calls and the other task's one: none after the approval of yesterday's cap.
  expect(server.requests).toHaveLength(3);
});

it('tasks running side by side pass a daily cap by one call in all, not one call each', async () => {
  // Each call is slow (it streams in parts), so without reservations all six would be under way at once.
  server.setScript(() => ({
    content: [text('An answer in several parts, streamed slowly.')],
    usage: costly,
    chunkDelayMs: 40,
  }));
  await boot({ spend: { dailyUsd: 0.1 }, agent: { maxCostUsd: null, maxParallelTasks: 6 } }, false);
  const spend = h!.add(startSpend(h!.ctx, h!.agent));
  stops.push(() => spend.stop());
  const tasks = await Promise.all(
    Array.from({ length: 6 }, async (_, i) => (await h!.send('thread.create', { text: `Task ${i}` })).task),
  );
  const ended = await Promise.all(tasks.map((t) => h!.waitTask(t.id, ['done', 'failed'])));
  // $0.03 a call: three leave $0.09, under the cap, so a fourth goes; then the cap holds the rest.
  expect(server.requests).toHaveLength(4);
  expect(ended.filter((t) => t.state === 'done')).toHaveLength(4);
  for (const t of ended.filter((x) => x.state === 'failed'))
    expect(t.reason).toMatch(/^Today's spending cap is reached \(\$0\.12 of \$0\.10\)/);
  // The day's total as the status shows it, once the last task's end is counted.
  await h!.waitEvent('task.updated', () => Math.abs((spend.status().spend?.todayUsd ?? 0) - 0.12) < 1e-9);
});

it("a call waiting on another task's call goes at once when the cap is removed, not when that call ends", async () => {
  // The first task's call never ends (it holds its reservation); the second waits on it.
  let n = 0;
  server.setScript(() => (++n === 1 ? { kind: 'hang' } : { content: [text('Done.')], usage: costly }));
  await boot({ spend: { dailyUsd: 0.1 }, agent: { maxCostUsd: null, maxParallelTasks: 2 } }, false);
  const spend = h!.add(startSpend(h!.ctx, h!.agent));
  stops.push(() => spend.stop());
  const first = (await h!.send('thread.create', { text: 'Hangs' })).task;
  await server.waitForRequests(1);
  const second = (await h!.send('thread.create', { text: 'Waits' })).task;
  await h!.waitEvent('task.updated', (e) => e.task.id === second.id && e.task.state === 'running');
  expect(server.requests).toHaveLength(1);
  // The cap is removed (as spend.set does: a new configuration, then a reload): the waiting call goes now.
  h!.ctx.config().spend.dailyUsd = undefined;
  h!.ctx.reloadConfig();
  expect((await h!.waitTask(second.id, ['done', 'failed'], 10_000)).state).toBe('done');
  await h!.send('task.cancel', { taskId: first.id });
});
