// An agent turn's checkpoint is an append of what the turn added, never a rewrite of the thread:
// the journal records of a long task stay the same size from the first turns to the last.
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { scanJournal } from '../../src/store/journal.js';
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

it('records per turn stay flat over a 30-turn task reading 20 KB per turn (no thread rewrite)', async () => {
  const TURNS = 30;
  for (let i = 0; i < TURNS; i++) server.push(reply(toolUse('big', { chars: 20_000 })));
  server.push(reply(text('Read everything.')));
  h = await startHarness({ modelUrl: server.url });
  const { thread, task } = await h.send('thread.create', { text: 'read a lot' });
  await h.waitTask(task.id, ['done'], 60_000);
  await h.agent.idle();
  await h.store.journal.settle();
  const recs = scanJournal(path.join(h.home, 'store', 'wal')).records;
  // Bytes the journal took for this thread per record that carried a conversation change.
  const sizes = recs
    .filter((r) =>
      r.ops.some(
        (o) =>
          o.t === 'thread' &&
          (o.d as { id: string; messages?: unknown }).id === thread.id &&
          (o.d as { messages?: unknown }).messages,
      ),
    )
    .map((r) => JSON.stringify(r).length);
  expect(sizes.length).toBeGreaterThanOrEqual(TURNS);
  const early = sizes.slice(2, 8);
  const late = sizes.slice(-7, -1);
  const avg = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  expect(avg(late)).toBeLessThan(avg(early) * 1.3);
  // And nowhere near the whole thread (30 x 20 KB of output, twice: conversation and items).
  expect(Math.max(...sizes.slice(2))).toBeLessThan(100_000);
}, 90_000);
