// The daily and monthly caps count what a task spends on the day (and month) it spends it: a task
// that started before midnight, or before the month turned, and keeps going is paused by the new
// day's cap, and the split between the days survives a restart and a crash (kill -9 image).
// Real agent, store and scripted model server; the spend module's clock is injected.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startSpend } from '../../src/spend/index.js';
import { Approvals } from '../../src/tools/approvals.js';
import { askToContinue } from '../../src/tools/ask-to-continue.js';
import { type Harness, startHarness, testTools } from '../agent/harness.js';
import { type ModelServer, startModelServer, toolUse } from '../helpers/model-server.js';

let server: ModelServer;
let approvals: Approvals | undefined;
const harnesses: Harness[] = [];
const stops: Array<() => Promise<void>> = [];
const folders: string[] = [];

beforeEach(async () => {
  server = await startModelServer();
});
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
  approvals?.stop();
  approvals = undefined;
  for (const h of harnesses.splice(0)) await h.cleanup();
  for (const f of folders.splice(0)) fs.rmSync(f, { recursive: true, force: true });
  await server.close();
});

// 10,000 input tokens on Sonnet: $0.03 per call.
const write = (i: number) => ({
  content: [toolUse('write_file', { name: `f${i}.txt`, text: String(i) })],
  usage: { input_tokens: 10_000, output_tokens: 0 },
});

/** The last day of this month, one minute before midnight, and the first of the next, 30 s after (local time). */
function acrossTheMonth(): { before: number; after: number } {
  const d = new Date();
  const before = new Date(d.getFullYear(), d.getMonth() + 1, 0, 23, 59, 0).getTime();
  const after = new Date(d.getFullYear(), d.getMonth() + 1, 1, 0, 0, 30).getTime();
  return { before, after };
}

async function boot(config: Record<string, unknown>, home: string, clock: () => number) {
  const tools = testTools(path.join(home, 'files'));
  approvals = new Approvals(
    (e) => h.ctx.emit(e),
    () => 30,
  );
  tools.runtime.askToContinue = askToContinue(approvals);
  const h = await startHarness({ modelUrl: server.url, config: config as never, tools, home });
  harnesses.push(h);
  const spend = h.add(startSpend(h.ctx, h.agent, clock));
  stops.push(() => spend.stop());
  return { h, spend };
}

/** Stop what boot started (not the home): as the daemon stops. */
async function shutDown(h: Harness): Promise<void> {
  for (const s of stops.splice(0)) await s();
  approvals?.stop();
  approvals = undefined;
  await h.stop();
}

it('a task running past midnight into a new month is paused by the new day cap; the split survives a restart and a crash', async () => {
  const { before, after } = acrossTheMonth();
  let now = before;
  // Three calls before midnight ($0.09 on the old day); from the fourth call on it is after midnight.
  server.setScript((_req, i) => {
    if (i >= 3) now = after;
    return write(i);
  });
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-midnight-'));
  folders.push(home);
  const config = { spend: { dailyUsd: 0.1 }, agent: { maxTurns: 12 } };
  const { h, spend } = await boot(config, home, () => now);
  const { task } = await h.send('thread.create', { text: 'Write files' });

  // $0.12 spent after midnight (calls 4-7): before the eighth call the task pauses and asks.
  const paused = await h.waitTask(task.id, ['waiting', 'failed', 'done']);
  expect(paused.state).toBe('waiting');
  const approval = (await h.waitEvent('approval.requested', (e) => e.approval.taskId === task.id)).approval;
  expect(approval.summary).toMatch(/^Today's spending cap is reached \(\$0\.12 of \$0\.10\)/);
  expect(server.requests).toHaveLength(7);
  expect(spend.ledger.today(after)).toBeCloseTo(0.12, 6);
  expect(spend.ledger.today(before)).toBeCloseTo(0.09, 6);
  expect(spend.ledger.month(after)).toBeCloseTo(0.12, 6);
  expect(spend.ledger.month(before)).toBeCloseTo(0.09, 6);
  // A new task is refused by the cap too.
  await expect(h.send('thread.create', { text: 'One more' })).rejects.toMatchObject({
    code: 'forbidden',
    message: expect.stringMatching(/^Today's spending cap is reached/),
  });
  approvals!.decide(approval.id, approval.hash, 'deny', { id: 'dev_test', name: 'Test phone' });
  await h.waitTask(task.id, ['failed']);
  await h.agent.idle();

  // A kill -9 image of the home: what is on disk now, with no snapshot taken at a stop.
  const crashed = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-midnight-crash-'));
  folders.push(crashed);
  fs.cpSync(home, crashed, { recursive: true });

  const counts = (s: { ledger: typeof spend.ledger }) => ({
    today: s.ledger.today(after),
    yesterday: s.ledger.today(before),
    month: s.ledger.month(after),
    lastMonth: s.ledger.month(before),
  });
  const expected = {
    today: expect.closeTo(0.12, 6),
    yesterday: expect.closeTo(0.09, 6),
    month: expect.closeTo(0.12, 6),
    lastMonth: expect.closeTo(0.09, 6),
  };

  await shutDown(h);
  const again = await boot(config, home, () => after);
  expect(counts(again.spend)).toEqual(expected);
  expect(again.h.ctx.status().spend).toMatchObject({ todayUsd: expect.closeTo(0.12, 6), blocked: expect.any(String) });
  await shutDown(again.h);

  const afterCrash = await boot(config, crashed, () => after);
  expect(counts(afterCrash.spend)).toEqual(expected);
});
