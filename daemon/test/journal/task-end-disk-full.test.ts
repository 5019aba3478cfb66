// A task that ends while the disk is full. Its end could not be written, yet thread.get showed it
// done at once, no event ever told the phone (also long after space returned), and after a restart
// it was "interrupted" with its answer lost. Now memory stays as the journal has it until the end
// is written: the end is written again every few seconds, and lands with its events once there is
// room. The disk is full through the journal's own fault hook (ERRAND_TEST_DISK_FULL).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Task, ThreadItem, ThreadSummary } from '../../../shared/src/index.js';
import { ensureBuilt } from '../agent/build.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import type { WsTestClient } from '../helpers/ws-client.js';
import { Homes, type Proc } from './helpers.js';

const homes = new Homes();
let model: ModelServer;
/** The model holds its answers until the test lets them go (the disk fills in between). */
let letGo: () => void = () => undefined;
let held = new Promise<void>((r) => {
  letGo = r;
});
const ANSWER = 'The report is ready.';

beforeAll(async () => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
  model = await startModelServer(async (req) => {
    const all = JSON.stringify(req.body.messages);
    await held;
    if (all.includes('Ask me first')) return reply(toolUse('ask_user', { question: 'Which template?' }));
    return reply(text(ANSWER));
  });
}, 180_000);
afterEach(async () => {
  letGo();
  held = new Promise<void>((r) => {
    letGo = r;
  });
  await homes.cleanup();
});
afterAll(() => model.close());

type Created = { thread: ThreadSummary; task: Task };
type Detail = { tasks: Task[]; items: ThreadItem[] };

const env = (flag: string) => ({
  ANTHROPIC_BASE_URL: model.url,
  ANTHROPIC_API_KEY: 'sk-test-key',
  ERRAND_MODEL: 'claude-sonnet-4-6',
  ERRAND_TEST_DISK_FULL: flag,
});

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Logged when a run ends with an error (here: its last record could not be written). */
const RUN_FAILED = 'task run failed';
const count = (s: string, part: string) => s.split(part).length - 1;

/** The task's state as thread.get shows it. */
async function shown(ws: WsTestClient, created: Created): Promise<Task> {
  const d = await ws.send<Detail>({ type: 'thread.get', threadId: created.thread.id });
  return d.tasks.find((t) => t.id === created.task.id)!;
}

/** Every task.updated the phone got for `taskId`. */
const updates = (ws: WsTestClient, taskId: string) =>
  ws
    .events()
    .map((f) => f.event)
    .filter((e) => e.kind === 'task.updated' && e.task.id === taskId)
    .map((e) => (e as { task: Task }).task);

/** A home and a daemon whose journal fails every write while `flag` exists. */
async function startWithFlag(): Promise<{ home: string; tokens: string[]; d: Proc; ws: WsTestClient; flag: string }> {
  const { home, tokens } = await homes.home();
  const flag = path.join(home, 'disk-is-full');
  const d = await homes.start(home, env(flag));
  const ws = await homes.connect(d.url, tokens[0], 0);
  return { home, tokens, d, ws, flag };
}

it('a task that ends on a full disk stays as recorded; with room its end and answer land, announced once', async () => {
  const { home, tokens, d, ws, flag } = await startWithFlag();
  const before = model.requests.length;
  const done = await ws.send<Created>({ type: 'thread.create', text: 'Write the report' });
  const asks = await ws.send<Created>({ type: 'thread.create', text: 'Ask me first' });
  await model.waitForRequests(before + 2, 15_000);
  fs.writeFileSync(flag, '');
  letGo();
  await until('both runs to end', () => count(d.output(), RUN_FAILED) >= 2);

  // Nothing unwritten is shown: both tasks are as the journal has them, and the phone was told nothing.
  for (const c of [done, asks]) {
    expect((await shown(ws, c)).state).toBe('running');
    expect(updates(ws, c.task.id).some((t) => t.state !== 'running' && t.state !== 'queued')).toBe(false);
  }
  const detail = await ws.send<Detail>({ type: 'thread.get', threadId: done.thread.id });
  expect(detail.items.some((i) => i.kind === 'assistant' && i.text === ANSWER)).toBe(false);

  // Room again: the ends land within seconds, each announced once.
  fs.rmSync(flag);
  const ended = await ws.event('task.updated', (e) => e.task.id === done.task.id && e.task.state === 'done', 15_000);
  expect(ended.task.resultSummary).toBe(ANSWER);
  const failed = await ws.event('task.updated', (e) => e.task.id === asks.task.id && e.task.state === 'failed', 15_000);
  expect(failed.task.reason).toContain(`disk full at ${path.join(home, 'store', 'wal')}`);
  expect(failed.task.reason).toContain('Free some space');
  expect(failed.task.reason).not.toContain('internal error');
  expect((await shown(ws, done)).state).toBe('done');
  expect((await shown(ws, asks)).state).toBe('failed');
  const after = await ws.send<Detail>({ type: 'thread.get', threadId: done.thread.id });
  expect(after.items.some((i) => i.kind === 'assistant' && i.text === ANSWER)).toBe(true);
  expect(updates(ws, done.task.id).filter((t) => t.state === 'done')).toHaveLength(1);
  const listed = await ws.send<ThreadSummary[]>({ type: 'threads.list' });
  expect(listed.find((t) => t.id === done.thread.id)?.lastTaskState).toBe('done');
  expect(
    ws
      .events()
      .some(
        (f) =>
          f.event.kind === 'thread.updated' &&
          f.event.thread.id === done.thread.id &&
          f.event.thread.lastTaskState === 'done',
      ),
  ).toBe(true);

  // Written: a restart after kill -9 has the answer.
  d.child.kill('SIGKILL');
  await d.exited;
  const again = await homes.start(home, env(flag));
  const c = await homes.connect(again.url, tokens[0], 0);
  expect((await shown(c, done)).state).toBe('done');
  expect(updates(c, done.task.id).filter((t) => t.state === 'done')).toHaveLength(1);
}, 90_000);

it('kill -9 while the end still waits for room: after a restart the task is interrupted, never shown done', async () => {
  const { home, tokens, d, ws, flag } = await startWithFlag();
  const before = model.requests.length;
  const created = await ws.send<Created>({ type: 'thread.create', text: 'Write the report' });
  await model.waitForRequests(before + 1, 15_000);
  fs.writeFileSync(flag, '');
  letGo();
  await until('the run to end', () => count(d.output(), RUN_FAILED) >= 1);
  expect((await shown(ws, created)).state).toBe('running');
  d.child.kill('SIGKILL');
  await d.exited;

  fs.rmSync(flag);
  const again = await homes.start(home, env(flag));
  const c = await homes.connect(again.url, tokens[0], 0);
  const task = await shown(c, created);
  expect(task.state).toBe('interrupted');
  expect(updates(c, created.task.id).some((t) => t.state === 'done')).toBe(false);
}, 90_000);
