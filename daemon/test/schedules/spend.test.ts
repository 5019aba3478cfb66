// Spending limits that pause and ask, daily caps that block new tasks, and runaway detection, on the
// real agent and store with the scripted model server; the question is a real approval (tools/approvals).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Approval, Schedule } from '../../../shared/src/index.js';
import { RunawayWatch, STALE_TURN_LIMIT } from '../../src/agent/runaway.js';
import { startSchedules } from '../../src/schedules/index.js';
import { startSpend } from '../../src/spend/index.js';
import { Approvals } from '../../src/tools/approvals.js';
import { askToContinue } from '../../src/tools/ask-to-continue.js';
import { type Harness, startHarness, testTools } from '../agent/harness.js';
import { failWritesContaining } from '../helpers/disk-full.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { FakeClock } from './fake-clock.js';

let server: ModelServer;
let h: Harness | undefined;
let approvals: Approvals | undefined;
const stops: Array<() => Promise<void>> = [];

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
});

// 10,000 input tokens on Sonnet: $0.03 per call.
const costly = { input_tokens: 10_000, output_tokens: 0 };

async function boot(config: Record<string, unknown>, opts: { canAsk?: boolean; home?: string } = {}) {
  const tools = testTools(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-spend-')), 'files'));
  if (opts.canAsk !== false) {
    approvals = new Approvals(
      (e) => h!.ctx.emit(e),
      () => 30,
    );
    tools.runtime.askToContinue = askToContinue(approvals);
  }
  h = await startHarness({ modelUrl: server.url, config: config as never, tools, home: opts.home });
  return h;
}

async function approvalFor(taskId: string): Promise<Approval> {
  return (await h!.waitEvent('approval.requested', (e) => e.approval.taskId === taskId)).approval;
}

describe('a spending limit', () => {
  it('pauses the task at its limit and asks; approve lets it continue for one more limit', async () => {
    server.push(
      { content: [toolUse('write_file', { name: 'a.txt', text: 'one' })], usage: costly },
      { content: [text('All done.')], usage: { input_tokens: 10, output_tokens: 5 } },
    );
    await boot({ agent: { maxCostUsd: 0.02 } });
    const { task } = await h!.send('thread.create', { text: 'Write a.txt' });
    const approval = await approvalFor(task.id);
    expect(approval.summary).toBe('Used $0.03 of $0.02 — continue for +$0.02?');
    expect(approval.action).toMatchObject({ kind: 'spend', usedUsd: 0.03, limitUsd: 0.02, raiseByUsd: 0.02 });
    expect((await h!.waitTask(task.id, ['waiting'])).state).toBe('waiting');
    expect(server.requests).toHaveLength(1);
    approvals!.decide(approval.id, approval.hash, 'approve', { id: 'dev_test', name: 'Test phone' });
    const done = await h!.waitTask(task.id, ['done']);
    expect(done.resultSummary).toBe('All done.');
    expect(server.requests).toHaveLength(2);
  });

  it('counts the whole task across restarts: a resume never starts the limit afresh, an approved raise is kept', async () => {
    const config = { agent: { maxCostUsd: 0.05 } };
    const write = (name: string) => ({ content: [toolUse('write_file', { name, text: name })], usage: costly });
    server.push(write('a.txt'), { kind: 'hang' });
    const home = (await boot(config)).home;
    stops.push(async () => fs.rmSync(home, { recursive: true, force: true }));
    const { task } = await h!.send('thread.create', { text: 'Write files' });
    // $0.03 spent; the daemon stops while the next call is out, and the task resumes at the next start.
    const untilCalls = async (n: number) => {
      for (let i = 0; i < 500 && server.requests.length < n; i++) await new Promise((r) => setTimeout(r, 10));
      expect(server.requests.length).toBe(n);
    };
    await untilCalls(2);
    await h!.stop();
    approvals?.stop();
    server.push(write('b.txt'), write('c.txt'), { kind: 'hang' });
    await boot(config, { home });
    // $0.06 of the task's $0.05: it asks (counting from the resume, it would have gone on to $0.09).
    let approval = await approvalFor(task.id);
    expect(approval.summary).toBe('Used $0.06 of $0.05 — continue for +$0.05?');
    expect(server.requests).toHaveLength(3);
    approvals!.decide(approval.id, approval.hash, 'approve', { id: 'dev_test', name: 'Test phone' });
    // Raised to $0.11: c.txt brings it to $0.09, and the daemon stops again mid-call.
    await untilCalls(5);
    await h!.stop();
    approvals?.stop();
    server.push(write('d.txt'));
    await boot(config, { home });
    approval = await approvalFor(task.id);
    expect(approval.summary).toBe('Used $0.12 of $0.11 — continue for +$0.05?');
    expect(server.requests).toHaveLength(6);
  });

  it('deny ends the task, saying why', async () => {
    server.push({ content: [toolUse('write_file', { name: 'a.txt', text: 'one' })], usage: costly });
    await boot({ agent: { maxCostUsd: 0.02 } });
    const { task } = await h!.send('thread.create', { text: 'Write a.txt' });
    const approval = await approvalFor(task.id);
    approvals!.decide(approval.id, approval.hash, 'deny', { id: 'dev_test', name: 'Test phone' });
    const failed = await h!.waitTask(task.id, ['failed']);
    expect(failed.reason).toBe(
      'Stopped after spending about $0.03 (limit: agent.maxCostUsd = $0.02). You chose to stop it.',
    );
    expect(server.requests).toHaveLength(1);
  });

  it('none (null, as the phone sets it when the field is emptied): the task goes on without asking', async () => {
    server.push(
      { content: [toolUse('write_file', { name: 'a.txt', text: 'one' })], usage: costly },
      { content: [text('All done.')], usage: { input_tokens: 10, output_tokens: 5 } },
    );
    await boot({ agent: { maxCostUsd: null } });
    const { task } = await h!.send('thread.create', { text: 'Write a.txt' });
    const done = await h!.waitTask(task.id, ['done', 'failed', 'waiting']);
    expect(done).toMatchObject({ state: 'done', resultSummary: 'All done.' });
    expect(done.costUsd).toBeGreaterThan(0.02);
    expect(server.requests).toHaveLength(2);
  });

  it("a scheduled run has its schedule's own limit per run", async () => {
    server.push({ content: [toolUse('write_file', { name: 'a.txt', text: 'one' })], usage: costly });
    await boot({ agent: { maxCostUsd: 5 } });
    const mod = await startSchedules(h!.ctx, h!.agent);
    stops.push(() => mod.stop());
    const { schedule } = (await h!.send('schedule.create', {
      text: 'Write a.txt',
      when: { kind: 'daily', time: '08:00' },
      timeZone: 'UTC',
      maxCostUsd: 0.01,
    })) as { schedule: Schedule };
    const ran = await h!.send('schedule.run', { scheduleId: schedule.id });
    const approval = await approvalFor(ran.taskId);
    expect(approval.summary).toBe('Used $0.03 of $0.01 — continue for +$0.01?');
    approvals!.decide(approval.id, approval.hash, 'deny', { id: 'dev_test', name: 'Test phone' });
    const failed = await h!.waitTask(ran.taskId, ['failed']);
    expect(failed.reason).toMatch(/limit: the schedule's limit per run = \$0\.01/);
  });

  it("null in schedule.update (the phone's emptied field) removes the schedule's own limit: runs have the per-task one", async () => {
    server.push(
      { content: [toolUse('write_file', { name: 'a.txt', text: 'one' })], usage: costly },
      { content: [text('All done.')], usage: { input_tokens: 10, output_tokens: 5 } },
    );
    await boot({ agent: { maxCostUsd: 5 } });
    const mod = await startSchedules(h!.ctx, h!.agent);
    stops.push(() => mod.stop());
    const { schedule } = (await h!.send('schedule.create', {
      text: 'Write a.txt',
      when: { kind: 'daily', time: '08:00' },
      timeZone: 'UTC',
      maxCostUsd: 0.01,
    })) as { schedule: Schedule };
    const { schedule: edited } = (await h!.send('schedule.update', {
      scheduleId: schedule.id,
      maxCostUsd: null,
    })) as { schedule: Schedule };
    expect(edited).not.toHaveProperty('maxCostUsd');
    expect(mod.ops.list().find((s) => s.id === schedule.id)).not.toHaveProperty('maxCostUsd');
    // Other fields left out of the edit stay as they were.
    expect(edited).toMatchObject({ text: 'Write a.txt', when: { kind: 'daily', time: '08:00' } });
    const ran = await h!.send('schedule.run', { scheduleId: schedule.id });
    const done = await h!.waitTask(ran.taskId, ['done', 'failed', 'waiting']);
    expect(done).toMatchObject({ state: 'done', resultSummary: 'All done.' });
    expect(done.costUsd).toBeGreaterThan(0.01);
    // A limit left out of an edit is kept; a number replaces it.
    const { schedule: kept } = (await h!.send('schedule.update', { scheduleId: schedule.id, maxCostUsd: 2 })) as {
      schedule: Schedule;
    };
    expect(kept.maxCostUsd).toBe(2);
    const { schedule: renamed } = (await h!.send('schedule.update', { scheduleId: schedule.id, title: 'A' })) as {
      schedule: Schedule;
    };
    expect(renamed.maxCostUsd).toBe(2);
  });
});

describe('a daily cap', () => {
  it('pauses tasks already running when it is reached; approve lets that task go on', async () => {
    const write = (name: string) => ({ content: [toolUse('write_file', { name, text: name })], usage: costly });
    server.push(write('a.txt'), write('b.txt'), { content: [text('All written.')], usage: costly });
    await boot({ spend: { dailyUsd: 0.05 } });
    const spend = h!.add(startSpend(h!.ctx, h!.agent));
    stops.push(() => spend.stop());
    const { task } = await h!.send('thread.create', { text: 'Write files' });
    // $0.06 today after two calls: before the third, the running task asks.
    const approval = await approvalFor(task.id);
    expect(approval.summary).toMatch(
      /^Today's spending cap is reached \(\$0\.06 of \$0\.05\).* Let this task go on anyway\?$/,
    );
    expect(server.requests).toHaveLength(2);
    approvals!.decide(approval.id, approval.hash, 'approve', { id: 'dev_test', name: 'Test phone' });
    expect((await h!.waitTask(task.id, ['done'])).resultSummary).toBe('All written.');
    expect(server.requests).toHaveLength(3);
  });

  it('a running task whose cap question is denied ends, saying the cap stopped it', async () => {
    const write = (name: string) => ({ content: [toolUse('write_file', { name, text: name })], usage: costly });
    server.push(write('a.txt'), write('b.txt'));
    await boot({ spend: { monthlyUsd: 0.05 } });
    const spend = h!.add(startSpend(h!.ctx, h!.agent));
    stops.push(() => spend.stop());
    const { task } = await h!.send('thread.create', { text: 'Write files' });
    const approval = await approvalFor(task.id);
    approvals!.decide(approval.id, approval.hash, 'deny', { id: 'dev_test', name: 'Test phone' });
    const failed = await h!.waitTask(task.id, ['failed']);
    expect(failed.reason).toMatch(/^This month's spending cap is reached .* You chose to stop it\.$/);
    expect(server.requests).toHaveLength(2);
  });

  it('blocks new tasks, scheduled runs included, with a clear message in the status, until it is raised', async () => {
    server.push({ content: [text('Expensive answer.')], usage: costly });
    await boot({ spend: { dailyUsd: 0.02 } });
    const spend = h!.add(startSpend(h!.ctx, h!.agent));
    stops.push(() => spend.stop());
    const mod = await startSchedules(h!.ctx, h!.agent);
    stops.push(() => mod.stop());
    const { task } = await h!.send('thread.create', { text: 'Think hard' });
    await h!.waitTask(task.id, ['done']);
    await h!.agent.idle();

    await expect(h!.send('thread.create', { text: 'One more' })).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/^Today's spending cap is reached \(\$0\.03 of \$0\.02\)/),
    });
    // It says where the person can raise it: on the phone, not only in a file they cannot reach from there.
    await expect(h!.send('thread.create', { text: 'One more' })).rejects.toMatchObject({
      message: expect.stringContaining("raise the daily cap under Spending on the phone's Schedules screen"),
    });
    const status = h!.ctx.status();
    expect(status.spend).toMatchObject({ dailyCapUsd: 0.02 });
    expect(status.spend!.todayUsd).toBeCloseTo(0.03, 6);
    expect(status.spend!.blocked).toMatch(/raise the daily cap under Spending .*spend\.dailyUsd in config\.json/);

    const { schedule } = (await h!.send('schedule.create', {
      text: 'Daily brief',
      when: { kind: 'daily', time: '08:00' },
      timeZone: 'UTC',
    })) as { schedule: Schedule };
    await expect(h!.send('schedule.run', { scheduleId: schedule.id })).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/spending cap/),
    });
    expect(server.requests).toHaveLength(1);
    expect(mod.engine).toBeDefined();

    // Raised: new tasks start again.
    (h!.config as { spend: { dailyUsd?: number } }).spend.dailyUsd = 1;
    expect(h!.ctx.status().spend!.blocked).toBeUndefined();
    server.push(reply(text('ok')));
    const again = await h!.send('thread.create', { text: 'One more' });
    await h!.waitTask(again.task.id, ['done']);
  });
});

it('a scheduled run due at the cap is recorded as failed with the reason, never dropped', async () => {
  server.push({ content: [text('Expensive answer.')], usage: costly });
  await boot({ spend: { dailyUsd: 0.02 } });
  const spend = h!.add(startSpend(h!.ctx, h!.agent));
  stops.push(() => spend.stop());
  const { task } = await h!.send('thread.create', { text: 'Think hard' });
  await h!.waitTask(task.id, ['done']);
  await h!.agent.idle();
  const start = Date.now();
  const clock = new FakeClock(start, async () => {
    await mod.engine.settled();
  });
  const mod = await startSchedules(h!.ctx, h!.agent, { clock });
  stops.push(() => mod.stop());
  const { schedule } = (await h!.send('schedule.create', {
    text: 'Hourly check',
    when: { kind: 'every', hours: 1 },
    timeZone: 'UTC',
  })) as { schedule: Schedule };
  await clock.advance(60 * 60_000);
  const occ = h!.store.schedules.get(schedule.id)!.history.at(-1)!;
  expect(occ).toMatchObject({ outcome: 'failed', dueAt: start + 60 * 60_000 });
  expect(occ.reason).toMatch(/^Not started: Today's spending cap is reached/);
  expect(server.requests).toHaveLength(1);
});

describe('runaway detection', () => {
  it('the same call with the same arguments three times pauses the task and shows the call', async () => {
    const same = () => ({ content: [toolUse('write_file', { text: 'x', name: 'loop.txt' })] });
    server.push(same(), same(), same(), { content: [text('unreachable')] });
    await boot({});
    const { task } = await h!.send('thread.create', { text: 'Loop' });
    const approval = await approvalFor(task.id);
    expect(approval.summary).toBe(
      'The agent made the same call 3 times: write_file {"name":"loop.txt","text":"x"}. Let it continue?',
    );
    expect(approval.action).toMatchObject({ kind: 'same_call', tool: 'write_file', times: 3 });
    expect(h!.tools.runs.get('write_file')).toBe(2);
    approvals!.decide(approval.id, approval.hash, 'deny', { id: 'dev_test', name: 'Test phone' });
    const failed = await h!.waitTask(task.id, ['failed']);
    // The approval showed the call; the task's reason (pushed, listed) names only the tool.
    expect(failed.reason).toBe('Stopped: The agent made the same write_file call 3 times. You chose to stop it.');
    expect(h!.tools.runs.get('write_file')).toBe(2);
  });

  it('without a way to ask (no approvals), the loop keeps its old rules', async () => {
    const same = () => ({ content: [toolUse('write_file', { text: 'x', name: 'loop.txt' })] });
    server.push(same(), same(), same(), { content: [text('Finished.')] });
    await boot({}, { canAsk: false });
    const { task } = await h!.send('thread.create', { text: 'Loop' });
    expect((await h!.waitTask(task.id, ['done'])).resultSummary).toBe('Finished.');
  });

  it('turns that bring nothing new are counted; any new text or result starts the count again', () => {
    const w = new RunawayWatch();
    const call = [{ name: 'shell', input: { cmd: 'ls' } }];
    expect(w.afterTurn('', call, ['a.txt'])).toBeUndefined();
    for (let i = 1; i < STALE_TURN_LIMIT; i++) expect(w.afterTurn('', call, ['a.txt'])).toBeUndefined();
    const seen = w.afterTurn('', call, ['a.txt']);
    expect(seen?.kind).toBe('no_progress');
    expect(seen?.details.lastCalls).toContain('shell {"cmd":"ls"}');
    w.reset('no_progress', {});
    expect(w.afterTurn('', call, ['b.txt'])).toBeUndefined();
    expect(w.afterTurn('Here is what I found', call, ['b.txt'])).toBeUndefined();
  });
});

it('spend.set on a full disk says the disk is full, as other commands do, and changes nothing', async () => {
  await boot({});
  const spend = h!.add(startSpend(h!.ctx, h!.agent));
  stops.push(async () => spend.stop());
  const file = h!.ctx.paths.config;
  const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  // config.json is written through a temp file: that write fails as on a full disk.
  const full = failWritesContaining('"spend"');
  try {
    await expect(h!.send('spend.set', { dailyUsd: 5 })).rejects.toMatchObject({
      code: 'unavailable',
      message: `The host could not save this: disk full at ${h!.home}. Free some space, then send it again.`,
    });
  } finally {
    full.restore();
  }
  expect(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined).toBe(before);
  // With room again it is saved.
  await h!.send('spend.set', { dailyUsd: 5 });
  expect(JSON.parse(fs.readFileSync(file, 'utf8')).spend).toEqual({ dailyUsd: 5 });
});
