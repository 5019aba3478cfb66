// fs_search with a pattern that backtracks exponentially (^(a|a)*$ on a line of a few dozen a's) does
// not freeze the daemon: the matching runs in the search worker, which is stopped at its time budget;
// the call ends with a clear error within seconds, another client's ping is answered at once while it
// runs, and the next search works (a new worker).
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ThreadItem } from '../../../shared/src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';

let model: ModelServer;
let td: TestDaemon;

beforeAll(async () => {
  model = await startModelServer();
  td = await startTestDaemon({
    config: {
      shell: { sandbox: 'off' },
      anthropic: { apiKey: 'sk-test-key', baseUrl: model.url, model: 'claude-sonnet-4-6' },
    },
  });
});
afterAll(async () => {
  await td?.stop();
  await model?.close();
});

type ToolItem = Extract<ThreadItem, { kind: 'tool' }>;

it('an exponential regular expression ends with a clear error in seconds while the daemon keeps answering', async () => {
  const phone = await td.connect();
  const other = await td.connect();
  // 29 bytes: on the event loop this took ~35 s (2^28 steps), every socket frozen meanwhile.
  model.push(
    reply(toolUse('fs_write', { path: 'r.txt', content: `${'a'.repeat(28)}!\n` })),
    reply(toolUse('fs_search', { query: '^(a|a)*$', regex: true, glob: 'r.txt' }, 'toolu_redos')),
    reply(toolUse('fs_search', { query: 'aaaa!', glob: 'r.txt' }, 'toolu_plain')),
    reply(text('Done.')),
  );
  const created = await phone.send<{ thread: { id: string }; task: { id: string } }>({
    type: 'thread.create',
    text: 'Search the file',
  });
  const taskId = created.task.id;
  const isSearch = (item: ThreadItem, states: string[]) =>
    item.kind === 'tool' && item.id === 'toolu_redos' && states.includes(item.state);

  await phone.waitFor(
    (f) =>
      f.type === 'event' &&
      (f.event.kind === 'item.added' || f.event.kind === 'item.updated') &&
      isSearch(f.event.item, ['running']),
    20_000,
  );
  const started = performance.now();
  const ended = () =>
    phone.frames.some(
      (f) =>
        f.type === 'event' &&
        (f.event.kind === 'item.added' || f.event.kind === 'item.updated') &&
        isSearch(f.event.item, ['completed', 'error']),
    );
  // While the search runs, another client's ping is answered promptly (the test and the daemon share
  // this process: a blocked event loop would hold the reply, and this timer, until the match ended).
  let pings = 0;
  do {
    const t0 = performance.now();
    await other.send({ type: 'ping' }, undefined, 5_000);
    expect(performance.now() - t0, 'ping answered while the search runs').toBeLessThan(1_000);
    pings++;
    await new Promise((r) => setTimeout(r, 50));
  } while (!ended() && performance.now() - started < 15_000);
  // It ended within seconds (the worker's budget is 3 s), having answered pings all along.
  expect(ended()).toBe(true);
  expect(performance.now() - started).toBeLessThan(10_000);
  expect(pings).toBeGreaterThan(3);

  const done = await phone.event('task.updated', (e) => e.task.id === taskId && e.task.state === 'done', 20_000);
  expect(done.task.state).toBe('done');
  // The search ended as an error that says what to do.
  const item = phone
    .events()
    .map((f) => f.event)
    .filter((e) => e.kind === 'item.updated')
    .map((e) => e.item)
    .find((i): i is ToolItem => i.kind === 'tool' && i.id === 'toolu_redos' && i.state === 'error');
  expect(item, 'the search step ended as an error').toBeDefined();
  const results = model.requests[2].body.messages.at(-1).content as Array<{
    tool_use_id: string;
    is_error?: boolean;
    content: unknown;
  }>;
  const redos = results.find((r) => r.tool_use_id === 'toolu_redos')!;
  expect(redos.is_error).toBe(true);
  expect(JSON.stringify(redos.content)).toMatch(/took too long.*use a simpler pattern or a plain-text search/);

  // The next search works (the stopped worker was replaced) and finds the line.
  const plain = (model.requests[3].body.messages.at(-1).content as typeof results).find(
    (r) => r.tool_use_id === 'toolu_plain',
  )!;
  expect(plain.is_error ?? false).toBe(false);
  expect(JSON.stringify(plain.content)).toContain('1 match');
  expect(JSON.stringify(plain.content)).toContain(`${path.sep}r.txt:1: ${'a'.repeat(28)}!`);
});

it('one search has a total matching budget: past it, it stops with what it found and says so', async () => {
  const { toolsHarness, textOf } = await import('./helpers.js');
  const { searchLimits } = await import('../../src/tools/fs-read-tools.js');
  const fs = await import('node:fs');
  const h = await toolsHarness();
  const saved = searchLimits.totalMs;
  try {
    // Three batches of files (64 a batch); a budget the first batch alone uses up.
    const dir = path.join(h.ctx.paths.workspace, 'many');
    fs.mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 150; i++) fs.writeFileSync(path.join(dir, `f${String(i).padStart(3, '0')}.txt`), 'needle\n');
    searchLimits.totalMs = 0.001;
    const out = await h.run('fs_search', { query: 'needle', path: 'many' });
    expect(out.state).toBe('completed');
    const said = textOf(out);
    expect(said).toMatch(/stopped after 0\.000001 s of matching \(only part of the files were searched\)/);
    expect(Number(/\[(\d+) match/.exec(said)?.[1])).toBeLessThan(150);
    searchLimits.totalMs = saved;
    expect(textOf(await h.run('fs_search', { query: 'needle', path: 'many' }))).toMatch(/\[150 matches/);
  } finally {
    searchLimits.totalMs = saved;
    await h.close();
  }
});
