// A long tool output is kept whole as a content-addressed blob; the thread and its events carry a
// bounded preview and the blob's id; `step.output` returns the whole output, also after a restart.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { OUTPUT_PREVIEW } from '../../src/agent/runner.js';
import { type Harness, startHarness } from '../agent/harness.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';

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

it('keeps a long output as a blob with a bounded preview in the thread and events; step.output returns all of it', async () => {
  const chars = OUTPUT_PREVIEW * 2 + 123;
  server.push(reply(toolUse('big', { chars })), reply(text('Read it.')));
  h = await startHarness({ modelUrl: server.url });
  const { thread, task } = await h.send('thread.create', { text: 'read the big thing' });
  await h.waitTask(task.id, ['done']);
  await h.agent.idle();
  const got = await h.send('thread.get', { threadId: thread.id });
  const step = got.items.find((i: { kind: string }) => i.kind === 'tool');
  expect(step.output).toHaveLength(OUTPUT_PREVIEW);
  expect(step.outputBlob).toEqual({ id: expect.stringMatching(/^[a-f0-9]{64}$/), bytes: chars });
  for (const e of h.eventsOf('item.updated'))
    if (e.item.kind === 'tool') expect((e.item.output ?? '').length).toBeLessThanOrEqual(OUTPUT_PREVIEW);
  const blobFile = path.join(h.home, 'store', 'blobs', step.outputBlob.id.slice(0, 2), step.outputBlob.id);
  expect(fs.statSync(blobFile).size).toBe(chars);
  expect((await h.send('step.output', { threadId: thread.id, stepId: step.id })).text).toBe('x'.repeat(chars));

  // After a restart the thread still names the blob and the whole output is there.
  const home = h.home;
  await h.stop();
  h = await startHarness({ modelUrl: server.url, home });
  expect((await h.send('step.output', { threadId: thread.id, stepId: step.id })).text).toHaveLength(chars);
  await expect(h.send('step.output', { threadId: thread.id, stepId: 'toolu_nope' })).rejects.toMatchObject({
    code: 'not_found',
  });
});
