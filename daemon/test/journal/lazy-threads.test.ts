// Start-up parses only the threads it uses: the snapshot keeps each thread as a line of its own with
// an index (summary, task states) in its head, so listing threads and finding unfinished tasks need
// no thread parsed, and a thread never touched is written to the next snapshot exactly as read.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import type { Task } from '../../../shared/src/index.js';
import { homePaths } from '../../src/config/paths.js';
import { openStore } from '../../src/store/index.js';
import { listSnapshots, scanJournal } from '../../src/store/journal.js';
import { repairJournal } from '../../src/store/repair.js';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tmpHome = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-lazy-threads-'));
  dirs.push(d);
  return homePaths(d);
};

const task = (id: string, state: 'done' | 'queued' | 'running', costUsd = 0): Task => ({
  id,
  threadId: 'thr_placeholder',
  messageId: `msg_${id}`,
  state,
  createdAt: Date.parse('2026-12-01T12:00:00Z'),
  turns: 1,
  usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
  costUsd,
});

/** Count JSON.parse calls on texts that are whole threads. */
function countThreadParses(): () => number {
  const real = JSON.parse;
  let n = 0;
  vi.spyOn(JSON, 'parse').mockImplementation((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
    if (typeof text === 'string' && text.startsWith('{"schema":1,"meta":')) n++;
    return real(text, reviver);
  });
  return () => n;
}

it('restarts without parsing threads it does not use, and keeps untouched ones exactly', async () => {
  const paths = tmpHome();
  const store = await openStore(paths);
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) {
    const doc = await store.threads.create(`Thread ${i}`, (d) => {
      d.items.push({ kind: 'user', id: `u${i}`, taskId: `t${i}`, text: `Question ${i}`, createdAt: i });
      d.tasks.push({ ...task(`t${i}`, i === 7 ? 'queued' : 'done', 0.25), threadId: d.meta.id });
    });
    ids.push(doc.meta.id);
  }
  const before = store.threads.list(true);
  await store.close(); // a clean stop writes a snapshot covering everything
  const snapshot = path.join(paths.store, 'wal', listSnapshots(path.join(paths.store, 'wal')).at(-1)!);
  const firstText = fs.readFileSync(snapshot, 'utf8');
  expect(firstText.split('\n').filter(Boolean)).toHaveLength(31); // the head, then one line per thread

  const parses = countThreadParses();
  const again = await openStore(paths);
  expect(again.threads.list(true)).toEqual(before);
  expect(again.threads.withTasksIn(new Set(['queued', 'running']))).toEqual([ids[7]]);
  const briefs = [...again.threads.taskBriefs()];
  expect(briefs).toHaveLength(30);
  expect(briefs.reduce((sum, t) => sum + t.costUsd, 0)).toBeCloseTo(7.5);
  expect(parses()).toBe(0);
  // Used: parsed once, then changed like any other.
  expect((await again.threads.load(ids[3])).items[0]).toMatchObject({ text: 'Question 3' });
  expect(parses()).toBe(1);
  await again.threads.update(ids[3], (d) => {
    d.meta.title = 'Renamed';
  });
  await again.close();

  const third = await openStore(paths);
  expect(third.threads.summary(ids[3])?.title).toBe('Renamed');
  expect(third.threads.list(true)).toHaveLength(30);
  // A thread nobody touched is written as it was read, byte for byte.
  const line = (text: string, id: string) =>
    text.split('\n').find((l) => l.includes(`"id":"${id}"`) && l.startsWith('{"schema"'));
  const latest = path.join(paths.store, 'wal', listSnapshots(path.join(paths.store, 'wal')).at(-1)!);
  expect(line(fs.readFileSync(latest, 'utf8'), ids[12])).toBe(line(firstText, ids[12]));
  expect((await third.threads.load(ids[12])).tasks[0].state).toBe('done');
  await third.close();
});

it('a change recorded after the snapshot applies to a thread restored unparsed', async () => {
  const paths = tmpHome();
  const store = await openStore(paths);
  const doc = await store.threads.create('First', () => undefined);
  await store.journal.snapshot();
  await store.threads.update(doc.meta.id, (d) => {
    d.meta.title = 'Changed after the snapshot';
  });
  await store.backedUp;
  await store.journal.close(false); // as after a crash: the change is only in the journal's tail
  const again = await openStore(paths);
  expect(again.threads.summary(doc.meta.id)?.title).toBe('Changed after the snapshot');
  await again.close();
});

it('reads a snapshot written in the first format (one JSON document)', async () => {
  const paths = tmpHome();
  const store = await openStore(paths);
  const doc = await store.threads.create('Old format', (d) => {
    d.tasks.push({ ...task('t1', 'running'), threadId: d.meta.id });
  });
  await store.close();
  const wal = path.join(paths.store, 'wal');
  const name = listSnapshots(wal).at(-1)!;
  const [headLine, ...parts] = fs.readFileSync(path.join(wal, name), 'utf8').split('\n').filter(Boolean);
  const head = JSON.parse(headLine);
  const v1 = { v: 1, n: head.n, seq: head.seq, at: head.at, dropped: head.dropped, folds: { ...head.folds } };
  expect(head.partBytes).toHaveLength(1);
  v1.folds.thread = parts.map((p) => JSON.parse(p));
  fs.writeFileSync(path.join(wal, name), JSON.stringify(v1));
  const again = await openStore(paths);
  expect(again.threads.summary(doc.meta.id)?.title).toBe('Old format');
  expect(again.threads.withTasksIn(new Set(['running']))).toEqual([doc.meta.id]);
  await again.close();
});

it('a damaged thread in the snapshot is named when used, and a cut-short snapshot refuses start', async () => {
  const paths = tmpHome();
  const store = await openStore(paths);
  const a = await store.threads.create('Alpha', (d) => {
    d.items.push({ kind: 'user', id: 'u1', taskId: 't1', text: 'AAAA', createdAt: 1 });
  });
  await store.threads.create('Beta', () => undefined);
  await store.close();
  const wal = path.join(paths.store, 'wal');
  const file = path.join(wal, listSnapshots(wal).at(-1)!);
  const text = fs.readFileSync(file, 'utf8');
  const at = text.lastIndexOf('AAAA'); // in the thread's part (the head's summary has it too)
  fs.writeFileSync(file, `${text.slice(0, at)}AXAA${text.slice(at + 4)}`);
  const again = await openStore(paths);
  expect(again.threads.summary(a.meta.id)?.title).toBe('Alpha'); // the index is whole
  await expect(again.threads.load(a.meta.id)).rejects.toThrow(/snapshot .* is damaged at byte \d+/);
  await again.backedUp; // the copy of the small files, made beside the start: done before the folder goes
  await again.journal.close(false);
  fs.writeFileSync(file, text.slice(0, text.length - 20));
  await expect(openStore(paths)).rejects.toThrow(/snapshot is not valid/);
});

it('repair works beside a format-2 snapshot: it cuts the damaged record and numbers stay above everything written', async () => {
  const paths = tmpHome();
  const store = await openStore(paths);
  await store.threads.create('Before the snapshot', () => undefined);
  for (let i = 0; i < 20; i++) await store.events.append({ kind: 'notice', level: 'info', text: `n${i}`, at: 0 });
  const snapSeq = store.events.lastSeq;
  await store.journal.snapshot();
  // Later records in a new segment: the snapshot covers all of the first one.
  for (let i = 0; i < 3; i++) await store.events.append({ kind: 'notice', level: 'info', text: `late${i}`, at: 0 });
  await store.backedUp;
  await store.journal.close(false);
  const wal = path.join(paths.store, 'wal');
  // Damage the first record after the snapshot, with valid ones after it.
  const seg = path.join(
    wal,
    fs
      .readdirSync(wal)
      .filter((f) => f.endsWith('.wal'))
      .at(-1)!,
  );
  const buf = fs.readFileSync(seg);
  const records = scanJournal(wal).records.filter((r) => r.events.some((e) => e.seq > snapSeq));
  expect(records.length).toBeGreaterThan(1);
  let off = 0;
  while (off < buf.length) {
    const len = buf.readUInt32LE(off);
    const body = buf.subarray(off + 8, off + 8 + len).toString();
    if (body.includes('late0')) break;
    off += 8 + len;
  }
  buf[off + 20] ^= 0xff;
  fs.writeFileSync(seg, buf);
  const result = await repairJournal(paths);
  expect(result.repaired).toBe(true);
  const again = await openStore(paths);
  const next = await again.events.append({ kind: 'notice', level: 'info', text: 'after repair', at: 0 });
  expect(next).toBeGreaterThan(snapSeq + 3);
  await again.close();
});
