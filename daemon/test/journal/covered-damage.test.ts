// Damage in a journal record the newest snapshot already holds costs no state: start skips it (and
// says where), doctor explains it, and repair removes only the damaged bytes, never the records
// after it (which may hold acknowledged changes the snapshot does not).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { homePaths } from '../../src/config/paths.js';
import { openStore } from '../../src/store/index.js';
import { JournalDamagedError, listSegments, scanJournal } from '../../src/store/journal.js';
import { inspectJournal, journalDirOf, repairJournal } from '../../src/store/repair.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tmpHome = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-covered-damage-'));
  dirs.push(d);
  return homePaths(d);
};

/** Byte offsets of the records in a segment. */
function recordOffsets(buf: Buffer): number[] {
  const out: number[] = [];
  for (let off = 0; off < buf.length; off += 8 + buf.readUInt32LE(off)) out.push(off);
  return out;
}

/** 10 threads, a clean stop (the snapshot holds them), 10 more, then a crash (only the journal has those). */
async function homeWithSnapshotAndLaterThreads() {
  const paths = tmpHome();
  const store = await openStore(paths);
  const before: string[] = [];
  for (let i = 0; i < 10; i++) {
    before.push((await store.threads.create(`before ${i}`, () => undefined)).meta.id);
    await store.events.append({ kind: 'notice', level: 'info', text: `event ${i}`, at: 0 });
  }
  await store.close();
  const again = await openStore(paths);
  const after: string[] = [];
  for (let i = 0; i < 10; i++) after.push((await again.threads.create(`after ${i}`, () => undefined)).meta.id);
  const lastSeq = again.events.lastSeq;
  await again.backedUp;
  await again.journal.close(false); // as a crash: the later threads are only in the journal
  again.threads.close();
  const wal = journalDirOf(paths);
  expect(listSegments(wal)).toHaveLength(1);
  return { paths, wal, seg: path.join(wal, listSegments(wal)[0]), before, after, lastSeq };
}

it('a flipped byte in a covered record: start goes on with every thread, doctor explains, repair removes only those bytes', async () => {
  const { paths, wal, seg, before, after, lastSeq } = await homeWithSnapshotAndLaterThreads();
  const records = scanJournal(wal).records;
  const buf = fs.readFileSync(seg);
  const offsets = recordOffsets(buf);
  // A covered record with events (the third one on); the last event before it is where a phone
  // that saw only those resumes from.
  const victim = records.findIndex((r, i) => r.events.length > 0 && records.slice(0, i).some((p) => p.events.length));
  const seenBefore = Math.max(0, ...records.slice(0, victim).flatMap((r) => r.events.map((e) => e.seq)));
  expect(seenBefore).toBeGreaterThan(0);
  buf[offsets[victim] + 8 + 10] ^= 0x04;
  fs.writeFileSync(seg, buf);

  const health = inspectJournal(wal);
  expect(health.status).toBe('covered-damage');
  expect(health.detail).toContain(`${seg} is damaged at byte ${offsets[victim]}`);
  expect(health.detail).toContain('nothing is lost');

  const store = await openStore(paths);
  const ids = new Set(store.threads.list(true).map((t) => t.id));
  expect([...before, ...after].filter((id) => ids.has(id))).toHaveLength(20);
  expect(store.journal.notices.join(' ')).toContain(`${seg} is damaged at byte ${offsets[victim]}`);
  // The replay window never spans the skipped events: a phone that saw only those before them gets a
  // fresh copy; one that saw everything is simply up to date.
  await store.events.ready();
  expect(store.events.since(seenBefore)).toBeUndefined();
  expect(store.events.since(lastSeq)).toEqual([]);
  // It goes on as usual: a new change is kept.
  const later = await store.threads.create('after the damage', () => undefined);
  await store.backedUp; // its copy of the small files is done before the folder goes
  await store.journal.close(false);
  store.threads.close();

  const repaired = await repairJournal(paths);
  expect(repaired.repaired).toBe(true);
  expect(repaired.droppedRecords).toBe(0);
  expect(repaired.message).toContain('Removed damaged bytes');
  expect(inspectJournal(wal).status).toBe('ok');
  const fixed = await openStore(paths);
  const kept = new Set(fixed.threads.list(true).map((t) => t.id));
  expect([...before, ...after, later.meta.id].filter((id) => kept.has(id))).toHaveLength(21);
  expect(fixed.journal.notices).toEqual([]);
  // The removed record's events are still not replayed across the gap.
  await fixed.events.ready();
  expect(fixed.events.since(seenBefore)).toBeUndefined();
  // Numbers are never given twice.
  expect(await fixed.events.append({ kind: 'notice', level: 'info', text: 'x', at: 0 })).toBeGreaterThan(lastSeq);
  await fixed.close();
});

it('a damaged length header in a covered record: the next record is found by its checksum', async () => {
  const { paths, wal, seg, before, after } = await homeWithSnapshotAndLaterThreads();
  const buf = fs.readFileSync(seg);
  const offsets = recordOffsets(buf);
  buf.writeUInt32LE(0xfffffff0, offsets[3]);
  fs.writeFileSync(seg, buf);
  expect(inspectJournal(wal).status).toBe('covered-damage');
  const store = await openStore(paths);
  const ids = new Set(store.threads.list(true).map((t) => t.id));
  expect([...before, ...after].filter((id) => ids.has(id))).toHaveLength(20);
  await store.backedUp; // its copy of the small files is done before the folder goes
  await store.journal.close(false);
  store.threads.close();
  expect((await repairJournal(paths)).droppedRecords).toBe(0);
  const fixed = await openStore(paths);
  expect(fixed.threads.list(true)).toHaveLength(20);
  await fixed.close();
});

it('damage in a record the snapshot does not hold still refuses start', async () => {
  const { paths, wal, seg } = await homeWithSnapshotAndLaterThreads();
  const buf = fs.readFileSync(seg);
  const offsets = recordOffsets(buf);
  buf[offsets.at(-3)! + 8 + 10] ^= 0x04; // an uncovered record, with valid ones after it
  fs.writeFileSync(seg, buf);
  expect(inspectJournal(wal).status).toBe('damaged');
  await expect(openStore(paths)).rejects.toBeInstanceOf(JournalDamagedError);
});

it('a flipped byte in the last record, which the snapshot of a clean stop holds: start goes on, later changes are kept', async () => {
  const paths = tmpHome();
  const store = await openStore(paths);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await store.threads.create(`thread ${i}`, () => undefined)).meta.id);
  await store.close(); // the snapshot holds every record; no mark is left
  const wal = journalDirOf(paths);
  const seg = path.join(wal, listSegments(wal).at(-1)!);
  const buf = fs.readFileSync(seg);
  buf[recordOffsets(buf).at(-1)! + 8 + 10] ^= 0x04;
  fs.writeFileSync(seg, buf);
  expect(inspectJournal(wal).status).toBe('covered-damage');

  const again = await openStore(paths);
  expect(again.threads.list(true)).toHaveLength(5);
  ids.push((await again.threads.create('after the damage', () => undefined)).meta.id);
  await again.backedUp; // its copy of the small files is done before the folder goes
  await again.journal.close(false); // a crash: the new thread is only in the journal, after the damage
  again.threads.close();

  const third = await openStore(paths);
  expect(new Set(third.threads.list(true).map((t) => t.id))).toEqual(new Set(ids));
  await third.backedUp; // its copy of the small files is done before the folder goes
  await third.journal.close(false);
  third.threads.close();
  expect((await repairJournal(paths)).droppedRecords).toBe(0);
  expect(inspectJournal(wal).status).toBe('ok');
  const fixed = await openStore(paths);
  expect(new Set(fixed.threads.list(true).map((t) => t.id))).toEqual(new Set(ids));
  await fixed.close();
});

it('a flipped bit in the length of the last record, which the snapshot of a clean stop holds: not taken for lost records', async () => {
  const paths = tmpHome();
  const store = await openStore(paths);
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) ids.push((await store.threads.create(`thread ${i}`, () => undefined)).meta.id);
  await store.close();
  const wal = journalDirOf(paths);
  const seg = path.join(wal, listSegments(wal).at(-1)!);
  const buf = fs.readFileSync(seg);
  buf[recordOffsets(buf).at(-1)! + 2] ^= 0x10; // the length now runs past the end of the file
  fs.writeFileSync(seg, buf);
  expect(inspectJournal(wal).status).toBe('covered-damage');
  const again = await openStore(paths);
  expect(new Set(again.threads.list(true).map((t) => t.id))).toEqual(new Set(ids));
  await again.close();
});

it('a damaged only record of a segment that starts after the snapshot is not taken for a covered one', async () => {
  const paths = tmpHome();
  const store = await openStore(paths);
  for (let i = 0; i < 3; i++) await store.threads.create(`thread ${i}`, () => undefined);
  await store.close();
  const wal = journalDirOf(paths);
  const snapN = Number(/(\d{16})/.exec(fs.readdirSync(wal).find((f) => f.startsWith('snapshot-'))!)![1]);
  // Only the segment after the snapshot is left (as compaction may leave it), holding one record.
  for (const s of listSegments(wal)) fs.rmSync(path.join(wal, s));
  fs.writeFileSync(path.join(wal, `seg-${String(snapN + 1).padStart(16, '0')}.wal`), '');
  const again = await openStore(paths);
  await again.threads.create('after the snapshot', () => undefined);
  await again.backedUp; // its copy of the small files is done before the folder goes
  await again.journal.close(false);
  again.threads.close();
  const [seg] = listSegments(wal);
  expect(seg).toBe(`seg-${String(snapN + 1).padStart(16, '0')}.wal`);
  const file = path.join(wal, seg);
  const buf = fs.readFileSync(file);
  expect(recordOffsets(buf)).toHaveLength(1);
  buf[8 + 10] ^= 0x04;
  fs.writeFileSync(file, buf);
  expect(inspectJournal(wal).status).not.toBe('covered-damage');
});
