// Recovery after kill -9, with the real daemon and the scripted model server: every task not in a
// final state gets an event for its recovered state; queued messages that never started run; the
// task the crash cut off is interrupted; sequence numbers continue without a gap.
import fs from 'node:fs';
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import type { ThreadSummary } from '../../../shared/src/index.js';
import { ensureBuilt } from '../agent/build.js';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import { expectContiguous, Homes } from './helpers.js';

const homes = new Homes();
let server: ModelServer;
beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 180_000);
beforeEach(async () => {
  server = await startModelServer();
});
afterEach(async () => {
  await homes.cleanup();
  await server.close();
});

type Created = { thread: ThreadSummary; task: { id: string } };

it('after kill -9: the running task is interrupted, queued messages (same thread and another) run, each with an event', async () => {
  const { home, tokens } = await homes.home();
  fs.writeFileSync(`${home}/config.json`, JSON.stringify({ agent: { maxParallelTasks: 1 } }));
  const env = { ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: 'sk-test-key', ERRAND_MODEL: 'claude-sonnet-4-6' };
  server.push({ kind: 'hang' });
  const first = await homes.start(home, env);
  const ws = await homes.connect(first.url, tokens[0], 0);
  const one = await ws.send<Created>({ type: 'thread.create', text: 'the long one' });
  await server.waitForRequests(1);
  const two = await ws.send<{ task: { id: string } }>({
    type: 'thread.send',
    threadId: one.thread.id,
    text: 'and then this',
  });
  const other = await ws.send<Created>({ type: 'thread.create', text: 'another thread' });
  await ws.event('task.updated', (e) => e.task.id === other.task.id && e.task.state === 'queued');
  const seenBefore = ws.lastSeq();
  first.child.kill('SIGKILL');
  await first.exited;

  server.push(reply(text('Answered the queued message.')), reply(text('Answered the other thread.')));
  const second = await homes.start(home, env);
  const again = await homes.connect(second.url, tokens[0], seenBefore);
  await again.event('task.updated', (e) => e.task.id === one.task.id && e.task.state === 'interrupted');
  await again.event('task.updated', (e) => e.task.id === two.task.id && e.task.state === 'queued');
  await again.event('task.updated', (e) => e.task.id === other.task.id && e.task.state === 'queued');
  const doneTwo = await again.event(
    'task.updated',
    (e) => e.task.id === two.task.id && e.task.state === 'done',
    20_000,
  );
  const doneOther = await again.event(
    'task.updated',
    (e) => e.task.id === other.task.id && e.task.state === 'done',
    20_000,
  );
  expect([doneTwo.task.resultSummary, doneOther.task.resultSummary].sort()).toEqual([
    'Answered the other thread.',
    'Answered the queued message.',
  ]);
  // The phone's view equals the store's.
  const got = await again.send<{ tasks: Array<{ id: string; state: string }> }>({
    type: 'thread.get',
    threadId: one.thread.id,
  });
  expect(got.tasks.map((t) => [t.id, t.state])).toEqual([
    [one.task.id, 'interrupted'],
    [two.task.id, 'done'],
  ]);
  const seqs = [...ws.events().filter((e) => e.seq <= seenBefore), ...again.events()].map((e) => e.seq);
  expect(expectContiguous(seqs)).toBe(true);
  expect(server.requests).toHaveLength(3); // the cut-off task did not run again by itself
}, 60_000);

it('a clock set back between runs changes nothing: changes are found by record number, not file time', async () => {
  const { home, tokens } = await homes.home();
  const first = await homes.start(home);
  const ws = await homes.connect(first.url, tokens[0]);
  const made = await ws.send<Created>({ type: 'thread.create', text: 'timeless' });
  await ws.send({ type: 'thread.rename', threadId: made.thread.id, title: 'renamed later' });
  first.child.kill('SIGKILL');
  await first.exited;
  // Every file of the store now looks older than any earlier write could have been.
  const past = new Date('2001-01-01T00:00:00Z');
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(p);
      fs.utimesSync(p, past, past);
    }
  };
  walk(`${home}/store`);
  const second = await homes.start(home);
  const again = await homes.connect(second.url, tokens[0]);
  const got = await again.send<{ thread: ThreadSummary }>({ type: 'thread.get', threadId: made.thread.id });
  expect(got.thread.title).toBe('renamed later');
});
