// A reply with more tool calls than one reply may make: the first MAX_CALLS_PER_REPLY run as steps,
// the rest get an error result the model reads (every tool_use keeps its result), none is planned.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { MAX_CALLS_PER_REPLY } from '../../src/agent/loop.js';
import { type ModelServer, startModelServer, text, toolUse } from '../helpers/model-server.js';
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

it('runs at most MAX_CALLS_PER_REPLY calls of one reply and answers the rest with an error', async () => {
  const n = MAX_CALLS_PER_REPLY + 200;
  const calls = Array.from({ length: n }, (_, i) => toolUse('write_file', { name: `f${i}.txt`, text: `${i}` }));
  server.push({ content: [text('Writing.'), ...calls] }, { content: [text('Done.')] });
  h = await startHarness({ modelUrl: server.url });
  const { thread, task } = await h.send('thread.create', { text: 'write many files' });
  expect((await h.waitTask(task.id, ['done'])).state).toBe('done');
  // The model got a result for every call: the first ones ran, the rest say why not.
  const results = server.requests[1].body.messages
    .at(-1)
    .content.filter((b: { type: string }) => b.type === 'tool_result');
  expect(results).toHaveLength(n);
  const refused = results.filter((r: { is_error?: boolean }) => r.is_error);
  expect(refused).toHaveLength(200);
  expect(JSON.stringify(refused[0].content)).toContain(
    `at most ${MAX_CALLS_PER_REPLY} tool calls and this one made ${n}`,
  );
  // The thread shows the calls that ran, not the ones that did not.
  const { items } = await h.send('thread.get', { threadId: thread.id });
  expect(items.filter((i: { kind: string }) => i.kind === 'tool')).toHaveLength(MAX_CALLS_PER_REPLY);
});
