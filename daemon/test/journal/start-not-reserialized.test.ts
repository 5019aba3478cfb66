// A task's start message (the person's text and any photo, as base64) is recorded once: later changes
// to the thread (every turn's checkpoint of every later task) do not turn it into JSON again, so a
// photo sent early in a long thread does not make each later change cost megabytes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { homePaths } from '../../src/config/paths.js';
import { openStore } from '../../src/store/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tmpHome = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-start-once-'));
  dirs.push(d);
  return homePaths(d);
};

const PHOTO = 'A'.repeat(4 * 1024 * 1024);

/** A start message whose serializations are counted (JSON.stringify calls toJSON on each). */
function countedStart(): { start: object; serialized: () => number } {
  let n = 0;
  const message = {
    role: 'user',
    content: [{ type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: PHOTO } }],
  };
  const start = {
    ...message,
    toJSON() {
      n++;
      return message;
    },
  };
  return { start, serialized: () => n };
}

it('records a start message once, and later changes to the thread do not serialize it again', async () => {
  const paths = tmpHome();
  const store = await openStore(paths);
  const counted = countedStart();
  const { id } = (await store.threads.create('Receipts', () => {})).meta;
  await store.threads.update(id, (d) => {
    d.agent = { v: 1, messages: [], tasks: { task_a: { start: counted.start, started: true } } };
  });
  expect(counted.serialized()).toBeGreaterThan(0); // the record of that change holds it
  const afterCreate = counted.serialized();

  // Twenty later changes: a second task's record changes, as its turns' checkpoints do.
  for (let turn = 0; turn < 20; turn++) {
    await store.threads.update(id, (d) => {
      const tasks = (d.agent as { tasks: Record<string, unknown> }).tasks;
      tasks.task_b = { start: { role: 'user', content: [{ type: 'text', text: 'File them' }] }, started: true, turn };
    });
  }
  expect(counted.serialized()).toBe(afterCreate);

  // A change to the earlier record's other fields is still recorded, and so is a new start.
  await store.threads.update(id, (d) => {
    const tasks = (d.agent as { tasks: Record<string, Record<string, unknown>> }).tasks;
    tasks.task_a.tainted = true;
    tasks.task_b = {
      ...tasks.task_b,
      start: { role: 'user', content: [{ type: 'text', text: 'File them by month' }] },
    };
  });
  await store.close();

  const again = await openStore(paths);
  const agent = (await again.threads.load(id)).agent as {
    tasks: Record<string, { tainted?: boolean; turn?: number; start: { content: Array<{ text?: string }> } }>;
  };
  expect(agent.tasks.task_a.tainted).toBe(true);
  expect(agent.tasks.task_b.turn).toBe(19);
  expect(agent.tasks.task_b.start.content[0].text).toBe('File them by month');
  await again.close();
});
