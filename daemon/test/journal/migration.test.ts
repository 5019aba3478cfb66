// A home written by the release before the journal (one JSON file per thread, index.json,
// commands.json, an event log of JSON lines, exactly as that release wrote them) is migrated on
// the first start: backup first, then everything is there — threads, host id, remembered replies,
// and event numbering continues. A second start does not migrate again.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { ThreadSummary } from '../../../shared/src/index.js';
import { ensureBuilt } from '../agent/build.js';
import { Homes } from './helpers.js';

const homes = new Homes();
beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 180_000);
afterEach(() => homes.cleanup());

const usage = { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 };

/** The store layout of the previous release, written the way it wrote it. */
function writeLegacyStore(home: string, deviceId: string): { threadId: string; taskId: string; lastSeq: number } {
  const store = path.join(home, 'store');
  fs.mkdirSync(path.join(store, 'threads'), { recursive: true, mode: 0o700 });
  const threadId = 'thr_legacyThreadId0001';
  const taskId = `${threadId}.tlegacyTask1`;
  const meta = { id: threadId, title: 'From the old release', state: 'active', createdAt: 1000, updatedAt: 2000 };
  const doc = {
    schema: 1,
    meta,
    items: [
      { kind: 'user', id: 'msg_legacy01', taskId, text: 'hello from before', createdAt: 1000 },
      { kind: 'assistant', id: 'itm_legacy01', taskId, text: 'Old answer.', createdAt: 1500 },
    ],
    tasks: [
      {
        id: taskId,
        threadId,
        state: 'done',
        messageId: 'msg_legacy01',
        createdAt: 1000,
        startedAt: 1100,
        endedAt: 2000,
        resultSummary: 'Old answer.',
        turns: 1,
        usage,
        costUsd: 0.001,
      },
    ],
    agent: {
      v: 1,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'hello from before' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Old answer.' }] },
      ],
      tasks: {
        [taskId]: { start: { role: 'user', content: [{ type: 'text', text: 'hello from before' }] }, started: true },
      },
    },
  };
  fs.writeFileSync(path.join(store, 'threads', `${threadId}.json`), JSON.stringify(doc));
  const summary = { ...meta, lastLine: 'Old answer.', lastTaskId: taskId, lastTaskState: 'done' };
  fs.writeFileSync(
    path.join(store, 'index.json'),
    JSON.stringify({ schema: 1, hostId: 'host_legacyHost01', writtenAt: 3000, threads: { [threadId]: summary } }),
  );
  fs.writeFileSync(
    path.join(store, 'commands.json'),
    JSON.stringify({
      schema: 1,
      entries: [{ key: `${deviceId}:old-command-0001`, at: 1000, ok: true, result: { thread: summary } }],
    }),
  );
  fs.mkdirSync(path.join(home, 'events'), { recursive: true, mode: 0o700 });
  const lines = [1, 2, 3].map((seq) =>
    JSON.stringify({ seq, at: 1000 + seq, event: { kind: 'notice', level: 'info', text: `old ${seq}`, at: 1000 } }),
  );
  fs.writeFileSync(path.join(home, 'events', 'events-000000000001.jsonl'), `${lines.join('\n')}\n`);
  return { threadId, taskId, lastSeq: 3 };
}

it('migrates a home of the previous release after a backup: threads, host id, remembered replies, event numbers', async () => {
  const { home, tokens } = await homes.home();
  const devices = JSON.parse(fs.readFileSync(path.join(home, 'store', 'devices.json'), 'utf8'));
  const legacy = writeLegacyStore(home, devices.devices[0].id);

  const d = await homes.start(home);
  const ws = await homes.connect(d.url, tokens[0]);
  const auth = ws.frames.find((f) => f.type === 'auth.ok') as { hostId: string; seq: number };
  expect(auth.hostId).toBe('host_legacyHost01');
  expect(auth.seq).toBeGreaterThanOrEqual(legacy.lastSeq);
  const list = await ws.send<ThreadSummary[]>({ type: 'threads.list' });
  expect(list.map((t) => [t.id, t.title, t.lastTaskState])).toEqual([
    [legacy.threadId, 'From the old release', 'done'],
  ]);
  const got = await ws.send<{ items: Array<{ text?: string }>; tasks: Array<{ id: string; state: string }> }>({
    type: 'thread.get',
    threadId: legacy.threadId,
  });
  expect(got.items.map((i) => i.text)).toEqual(['hello from before', 'Old answer.']);
  expect(got.tasks).toEqual([expect.objectContaining({ id: legacy.taskId, state: 'done' })]);
  // The old remembered reply answers a resend of its id.
  const resent = await ws.send<{ thread: ThreadSummary }>({ type: 'thread.create', text: 'again' }, 'old-command-0001');
  expect(resent.thread.id).toBe(legacy.threadId);
  expect((await ws.send<ThreadSummary[]>({ type: 'threads.list' })).length).toBe(1);
  // New events are numbered after the old ones.
  await ws.send({ type: 'thread.rename', threadId: legacy.threadId, title: 'Renamed after migration' });
  const ev = await ws.event('thread.updated', (e) => e.thread.title === 'Renamed after migration');
  expect(ws.events().find((e) => e.event === ev)!.seq).toBeGreaterThan(legacy.lastSeq);

  // The old files went to a backup first, byte for byte.
  const backups = fs.readdirSync(path.join(home, 'backups')).filter((b) => b.startsWith('pre-journal-'));
  expect(backups).toHaveLength(1);
  const backup = path.join(home, 'backups', backups[0]);
  expect(JSON.parse(fs.readFileSync(path.join(backup, 'index.json'), 'utf8')).hostId).toBe('host_legacyHost01');
  expect(fs.existsSync(path.join(backup, 'threads', `${legacy.threadId}.json`))).toBe(true);
  expect(fs.existsSync(path.join(backup, 'commands.json'))).toBe(true);
  expect(fs.existsSync(path.join(backup, 'events', 'events-000000000001.jsonl'))).toBe(true);
  expect(fs.existsSync(path.join(home, 'store', 'index.json'))).toBe(false);
  expect(fs.existsSync(path.join(home, 'store', 'threads'))).toBe(false);
  expect(d.output()).toMatch(/moved into the journal/);

  // A second start: no second migration, everything still there.
  d.child.kill('SIGTERM');
  await d.exited;
  const again = await homes.start(home);
  const c = await homes.connect(again.url, tokens[0]);
  const after = await c.send<{ thread: ThreadSummary }>({ type: 'thread.get', threadId: legacy.threadId });
  expect(after.thread.title).toBe('Renamed after migration');
  expect(fs.readdirSync(path.join(home, 'backups')).filter((b) => b.startsWith('pre-journal-'))).toHaveLength(1);
});
