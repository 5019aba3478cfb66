// kill -9 while a tool call waits for the person's approval: that call never started (nothing runs
// before its approval), so after the restart it is not "outcome unknown", and resuming the task asks
// the approval again; the approval card it left is closed (expired) for phones that fold events. A
// call that did start (an approved command killed mid-run) stays unknown.
//
// The crash is the home folder as it is on disk at that moment (everything durable is there, as
// after kill -9), copied and opened by a second daemon in this process; the first is then stopped.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon, tempHome } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';

let model: ModelServer | undefined;
const daemons: TestDaemon[] = [];
const folders: string[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop().catch(() => undefined);
  await model?.close();
  for (const f of folders.splice(0)) fs.rmSync(f, { recursive: true, force: true });
});

interface Step {
  kind: string;
  id: string;
  state?: string;
  summary?: string;
  output?: string;
}

async function crashAndRestart(first: TestDaemon, opts: Parameters<typeof startTestDaemon>[0]): Promise<TestDaemon> {
  // What kill -9 leaves: the files as they are now (the daemon sits waiting, nothing is being written).
  const crashed = tempHome('errand-crashed-');
  folders.push(crashed);
  fs.cpSync(first.home, crashed, {
    recursive: true,
    filter: (from) => {
      const st = fs.lstatSync(from);
      return st.isDirectory() || st.isFile(); // not the control socket
    },
  });
  await first.stop();
  const again = await startTestDaemon({ ...opts, home: crashed });
  daemons.push(again);
  return again;
}

/**
 * A daemon on a fresh home whose task (started with `text`) has asked its first approval; `config`
 * is the daemon's besides the model. The model's replies are pushed before this is called.
 */
async function untilAsked(config: Record<string, unknown>, text: string) {
  const home = tempHome();
  folders.push(home);
  const opts = { home, env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: model!.url }, config };
  const first = await startTestDaemon(opts);
  daemons.push(first);
  const { token } = await first.pairDevice();
  const ws = await first.connect({ token });
  const { thread, task } = await ws.send<{ thread: { id: string }; task: { id: string } }>({
    type: 'thread.create',
    text,
  });
  const asked = await ws.event('approval.requested', () => true, 20_000);
  return { first, opts, token, ws, thread, task, asked };
}

/** What kill -9 leaves of `first`, opened by a new daemon (the socket to the first closed). */
async function crashed(run: Awaited<ReturnType<typeof untilAsked>>): Promise<TestDaemon> {
  run.ws.close();
  daemons.splice(daemons.indexOf(run.first), 1);
  return crashAndRestart(run.first, run.opts);
}

const toolResults = (m: ModelServer) =>
  m.requests.flatMap((r) =>
    (r.body.messages as Array<{ role: string; content: unknown }>)
      .filter((msg) => Array.isArray(msg.content))
      .flatMap((msg) => msg.content as Array<{ type: string; tool_use_id?: string; content?: unknown }>)
      .filter((b) => b.type === 'tool_result'),
  );

it('a call waiting for approval when the daemon is killed is not "outcome unknown"; resume asks the approval again', async () => {
  model = await startModelServer();
  const outside = tempHome('errand-marker-');
  folders.push(outside);
  const marker = path.join(outside, 'MARKER');
  model.push(reply(text('Touching it.'), toolUse('shell', { argv: ['touch', marker] }, 'toolu_touch')));
  const run = await untilAsked({ shell: { sandbox: 'off' }, agent: { autoResume: false } }, 'touch the marker');
  const { token, thread, task, asked } = run;

  const again = await crashed(run);
  const ws2 = await again.connect({ token });
  const got = await ws2.send<{ tasks: Array<{ state: string }>; items: Step[]; approvals: unknown[] }>({
    type: 'thread.get',
    threadId: thread.id,
  });
  expect(got.tasks[0].state).toBe('interrupted');
  const step = got.items.find((i) => i.kind === 'tool');
  expect(step?.state, JSON.stringify(step)).not.toBe('unknown');
  expect(step?.output ?? '').not.toMatch(/outcome unknown/);
  // The approval asked before the crash is gone with it: no card is left waiting, for a phone that
  // loads the thread or one that keeps its view from events (the start closed it as expired).
  expect(got.approvals).toEqual([]);
  const replaying = await again.connect({ token, lastSeq: 0 });
  const closed = await replaying.event('approval.resolved', (e) => e.approval.id === asked.approval.id, 10_000);
  expect(closed.approval.state).toBe('expired');
  replaying.close();

  // Resume: the same call asks again (a new approval); denied, it never runs.
  model.push(reply(text('Not touched.')));
  await ws2.send({ type: 'task.resume', taskId: task.id });
  const again2 = await ws2.event(
    'approval.requested',
    (e) => e.approval.taskId === task.id && e.approval.id !== asked.approval.id,
    20_000,
  );
  expect(again2.approval.summary).toBe(asked.approval.summary);
  await ws2.send({
    type: 'approval.decide',
    approvalId: again2.approval.id,
    hash: again2.approval.hash,
    decision: 'deny',
  });
  await ws2.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
  const result = toolResults(model).find((b) => b.tool_use_id === 'toolu_touch');
  expect(JSON.stringify(result)).toMatch(/denied/);
  expect(JSON.stringify(result)).not.toMatch(/outcome unknown/);
  expect(fs.existsSync(marker)).toBe(false);
});

it('an approved command killed while it runs is still "outcome unknown" after the restart', async () => {
  model = await startModelServer();
  const outside = tempHome('errand-marker-');
  folders.push(outside);
  const began = path.join(outside, 'BEGAN');
  model.push(
    reply(toolUse('shell', { argv: ['sh', '-c', `touch '${began}'; sleep 30`] }, 'toolu_sleep')),
    reply(text('ok')),
  );
  const run = await untilAsked({ shell: { sandbox: 'off' }, agent: { autoResume: false } }, 'run it');
  const { ws, token, thread } = run;
  const { approval } = run.asked;
  await ws.send({ type: 'approval.decide', approvalId: approval.id, hash: approval.hash, decision: 'approve' });
  const deadline = Date.now() + 20_000;
  while (!fs.existsSync(began)) {
    if (Date.now() > deadline) throw new Error('the approved command did not start');
    await new Promise((r) => setTimeout(r, 10));
  }

  const again = await crashed(run);
  const ws2 = await again.connect({ token });
  const got = await ws2.send<{ items: Step[] }>({ type: 'thread.get', threadId: thread.id });
  const step = got.items.find((i) => i.kind === 'tool');
  expect(step?.state, JSON.stringify(step)).toBe('unknown');
});

it('a schedule waiting for its confirmation when the daemon is killed is not "unknown"; resume asks again', async () => {
  model = await startModelServer();
  const input = { task: 'Summarise the news', title: 'Morning news', when: { kind: 'daily', time: '08:00' } };
  model.push(reply(toolUse('schedule_create', input, 'toolu_sched')));
  const run = await untilAsked({ agent: { autoResume: false } }, 'every morning, the news');
  const { token, thread, task, asked } = run;

  const again = await crashed(run);
  const ws2 = await again.connect({ token });
  const got = await ws2.send<{ items: Step[] }>({ type: 'thread.get', threadId: thread.id });
  const step = got.items.find((i) => i.kind === 'tool');
  expect(step?.state, JSON.stringify(step)).not.toBe('unknown');

  model.push(reply(text('Not scheduled.')));
  await ws2.send({ type: 'task.resume', taskId: task.id });
  const again2 = await ws2.event(
    'approval.requested',
    (e) => e.approval.taskId === task.id && e.approval.id !== asked.approval.id,
    20_000,
  );
  await ws2.send({
    type: 'approval.decide',
    approvalId: again2.approval.id,
    hash: again2.approval.hash,
    decision: 'deny',
  });
  await ws2.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
  const result = toolResults(model).find((b) => b.tool_use_id === 'toolu_sched');
  expect(JSON.stringify(result)).toMatch(/declined/);
  expect((await ws2.send<{ schedules: unknown[] }>({ type: 'schedules.list' })).schedules).toEqual([]);
});
