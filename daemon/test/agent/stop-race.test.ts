// A clean stop that begins right after a command queued a task (in the same turn as its reply, before
// the run starts): the task is not run against a closing store; it stays queued and runs on the next start.
import fs from 'node:fs';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type ModelServer, startModelServer, text } from '../helpers/model-server.js';
import { type Harness, startHarness } from './harness.js';

let server: ModelServer;
const harnesses: Harness[] = [];

beforeEach(async () => {
  server = await startModelServer();
});
afterEach(async () => {
  for (const h of harnesses.splice(0)) {
    await h.cleanup();
    fs.rmSync(h.home, { recursive: true, force: true });
  }
  await server.close();
});

it('a task queued just before a clean stop stays queued, and runs once on the next start', async () => {
  server.push({ content: [text('Downloads tidied: 12 files moved')] });
  const first = await startHarness({ modelUrl: server.url });
  harnesses.push(first);
  const errors: string[] = [];
  first.ctx.log.error = (msg: string) => void errors.push(msg);
  const { task } = await first.send('thread.create', { text: 'Tidy the downloads folder' });
  await first.stop();
  expect(server.requests).toHaveLength(0);
  expect(errors).toEqual([]); // no run was tried against the closing store

  const second = await startHarness({ modelUrl: server.url, home: first.home });
  harnesses.push(second);
  const done = await second.waitTask(task.id, ['done']);
  expect(done.resultSummary).toBe('Downloads tidied: 12 files moved');
  expect(server.requests).toHaveLength(1);
});
