// Finished threads leave memory: beyond the most recently used few, a thread with no task under way
// is moved to an anonymous cold file and read back (checked) when used. Memory stays flat as tasks
// pile up, while every thread reads, changes, snapshots and restarts exactly as before.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import type { Task } from '../../../shared/src/index.js';
import { homePaths } from '../../src/config/paths.js';
import { openStore } from '../../src/store/index.js';
import type { ThreadDoc } from '../../src/store/threads.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const task = (id: string, threadId: string, state: Task['state']): Task => ({
  id,
  threadId,
  messageId: `msg_${id}`,
  state,
  createdAt: Date.parse('2026-12-01T12:00:00Z'),
  turns: 1,
  usage: { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 },
  costUsd: 0.01,
});

it('moves idle threads out of memory and reads them back exactly; active ones stay', async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-idle-threads-'));
  dirs.push(home);
  const paths = homePaths(home);
  const store = await openStore(paths);
  const expected = new Map<string, ThreadDoc>();
  const active: string[] = [];
  for (let i = 0; i < 300; i++) {
    const running = i % 50 === 0;
    const doc = await store.threads.create(`Thread ${i}`, (d) => {
      d.items.push({ kind: 'user', id: `u${i}`, taskId: `t${i}`, text: `Question ${i} ✓`, createdAt: i });
      d.tasks.push(task(`t${i}`, d.meta.id, running ? 'running' : 'done'));
      d.agent = { messages: [{ role: 'user', content: [{ type: 'text', text: `Question ${i}` }] }] };
    });
    if (running) active.push(doc.meta.id);
    expected.set(doc.meta.id, structuredClone(doc));
  }
  // Idle threads beyond the most recent few leave memory; threads with a running task never do.
  await vi.waitFor(() => expect(store.threads.parsedCount()).toBeLessThanOrEqual(32 + active.length));
  for (const id of active) expect(store.threads.withTasksIn(new Set(['running']))).toContain(id);
  const listed = store.threads.list(true);
  expect(listed).toHaveLength(300);

  // Each reads back exactly as it was.
  for (const [id, doc] of expected) expect(store.threads.peek(id)).toEqual(doc);
  await vi.waitFor(() => expect(store.threads.parsedCount()).toBeLessThanOrEqual(32 + active.length));

  // A thread moved out can still be changed; the change is recorded and survives a restart.
  const [firstId] = expected.keys();
  await store.threads.update(firstId, (d) => {
    d.items.push({ kind: 'assistant', id: 'a0', taskId: 't0', text: 'Answer 0', createdAt: 1 });
  });
  expected.get(firstId)!.items.push({ kind: 'assistant', id: 'a0', taskId: 't0', text: 'Answer 0', createdAt: 1 });
  const briefs = [...store.threads.taskBriefs()].length;
  await store.close();

  // Nothing of the cold file is left on disk; the snapshot holds every thread.
  const wal = path.join(paths.store, 'wal');
  expect(fs.readdirSync(wal).filter((f) => !/^(seg-\d{16}\.wal|snapshot-\d{16}\.json)$/.test(f))).toEqual([]);
  const again = await openStore(paths);
  try {
    expect([...again.threads.taskBriefs()]).toHaveLength(briefs);
    for (const [id, doc] of expected) {
      const back = again.threads.peek(id)!;
      expect({ ...back, meta: { ...back.meta, updatedAt: 0 } }).toEqual({
        ...doc,
        meta: { ...doc.meta, updatedAt: 0 },
      });
    }
  } finally {
    await again.close();
  }
});
