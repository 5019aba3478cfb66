// Prompt caching: the system prompt and the tool definitions are the cached prefix of every request,
// so they carry the cache breakpoints and do not change between the turns of a task or between tasks
// of the same day.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { type Harness, startHarness } from './harness.js';

let server: ModelServer;
let h: Harness | undefined;

beforeEach(async () => {
  server = await startModelServer();
});
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
  await server.close();
});

it('marks the last system block and the last tool for caching, and keeps both identical across turns and tasks', async () => {
  server.push(
    // Task 1: three turns (two with tools).
    reply(text('Writing.'), toolUse('write_file', { name: 'a.txt', text: 'alpha' })),
    reply(toolUse('write_file', { name: 'b.txt', text: 'beta' })),
    reply(text('Wrote a.txt and b.txt.')),
    // Task 2, in another thread: two turns.
    reply(toolUse('write_file', { name: 'c.txt', text: 'gamma' })),
    reply(text('Wrote c.txt.')),
  );
  h = await startHarness({ modelUrl: server.url });
  const first = await h.send('thread.create', { text: 'write a and b' });
  await h.waitTask(first.task.id, ['done']);
  // Some time passes between the tasks (same day): nothing in the prefix may depend on it.
  await new Promise((r) => setTimeout(r, 30));
  const second = await h.send('thread.create', { text: 'write c' });
  await h.waitTask(second.task.id, ['done']);
  await h.agent.idle();
  expect(server.requests).toHaveLength(5);

  for (const { body } of server.requests) {
    expect(body.system.length).toBeGreaterThan(0);
    expect(body.system.at(-1).cache_control).toEqual({ type: 'ephemeral' });
    // Only the last block and the last tool: breakpoints are limited, and more would split the prefix.
    expect(body.system.slice(0, -1).filter((b: { cache_control?: unknown }) => b.cache_control)).toEqual([]);
    expect(body.tools.length).toBeGreaterThan(1);
    expect(body.tools.at(-1).cache_control).toEqual({ type: 'ephemeral' });
    expect(body.tools.slice(0, -1).filter((t: { cache_control?: unknown }) => t.cache_control)).toEqual([]);
  }
  // The cached prefix (tools, then system) is the same bytes in every request of both tasks.
  const prefixes = server.requests.map(({ body }) => JSON.stringify({ tools: body.tools, system: body.system }));
  expect(new Set(prefixes).size).toBe(1);
  // …and it is a real prompt (the tools and the working folder), not something trivially equal.
  expect(server.requests[0].body.tools.map((t: { name: string }) => t.name)).toEqual([
    'write_file',
    'slow',
    'approve_me',
    'big',
    'wait_for',
    'ask_user',
  ]);
  expect(server.requests[0].body.system[0].text).toContain(h.tools.dir);
  expect(server.requests[0].body.system[0].text).toContain(`Today is ${new Date().toISOString().slice(0, 10)}.`);
});
