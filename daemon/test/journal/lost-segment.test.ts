// The newest journal records gone (a segment deleted, or lost in a restore): start refuses naming the
// folder and the fixes instead of starting silently without acknowledged changes and handing out
// event numbers phones already hold; `errand doctor` and `errand repair --check` say so; `errand
// repair` keeps a copy, goes on from what is left and never gives a number twice. And what must
// never trip the check: snapshots dropping segments, repair cutting a damaged journal, migration.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { repairCommand } from '../../src/cli/commands/repair.js';
import { homePaths } from '../../src/config/paths.js';
import { runDoctor } from '../../src/doctor/index.js';
import { recordingRunner } from '../../src/service/runner.js';
import { EventLog } from '../../src/store/event-log.js';
import { openStore, type Store } from '../../src/store/index.js';
import {
  findLostRecords,
  Journal,
  JournalDamagedError,
  type JournalOptions,
  JournalRecordsLostError,
  listSegments,
  listSnapshots,
  NEWEST_SEGMENT_FILE,
  readNewestSegmentMark,
  scanJournal,
  snapshotNumber,
  writeNewestSegmentMark,
} from '../../src/store/journal.js';
import { inspectJournal, journalDirOf, LOST_SEQ_GAP, repairJournal } from '../../src/store/repair.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
const tmpHome = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-lost-segment-'));
  dirs.push(d);
  return homePaths(d);
};

const notice = (text: string) => ({ kind: 'notice' as const, level: 'info' as const, text, at: 0 });

/** A kill -9: nothing more is written (no snapshot at stop). The start's backup copy has ended (the test's folder is removed next). */
async function crash(store: Store): Promise<void> {
  await store.backedUp;
  await store.journal.close(false);
  store.threads.close();
  store.events.closeWindow();
}

/** Every file of a folder with its bytes: to see that nothing was changed. */
const contents = (dir: string) =>
  Object.fromEntries(
    fs
      .readdirSync(dir)
      .sort()
      .map((f) => [f, fs.readFileSync(path.join(dir, f)).toString('base64')]),
  );

async function repairCheck(home: string): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const io: CliIO = {
    out: (t) => out.push(t),
    err: (t) => out.push(t),
    env: {},
    interactive: false,
    confirm: async () => false,
  };
  const code = await repairCommand.run({ home, values: { check: true }, positionals: [] }, io);
  return { code, out: out.join('\n') };
}

async function doctorJournalCheck(home: string) {
  const offline: typeof fetch = async () => {
    throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } });
  };
  const checks = await runDoctor({
    home,
    env: { PATH: '/usr/bin:/bin', HOME: path.join(home, 'user') },
    platform: 'linux',
    run: recordingRunner().run,
    fetch: offline,
    timeoutMs: 500,
  });
  return checks.find((c) => c.id === 'journal')!;
}

/** A journal with its own small segments, and the event log that replays from it. */
async function openJournal(dir: string, opts: JournalOptions) {
  const journal = await Journal.open(dir, opts);
  const events = new EventLog(journal);
  await journal.load((r) => events.replayed(r));
  return { journal, events };
}

/** Stop it: `snapshot` false is a kill -9 (nothing more written). */
async function shut(o: { journal: Journal; events: EventLog }, snapshot: boolean): Promise<void> {
  await o.journal.close(snapshot);
  o.events.closeWindow();
}

const seqsSince = (events: EventLog, seq: number) => events.since(seq)?.map((e) => e.seq);

it('segments deleted after a snapshot: start refuses naming the folder and the fixes, changes nothing; doctor and repair --check say so; repair goes on without reusing a number', async () => {
  const paths = tmpHome();
  const wal = journalDirOf(paths);
  const first = await openStore(paths);
  for (let i = 0; i < 3; i++) await first.threads.create(`first ${i}`, () => undefined);
  await first.close(); // a clean stop: a snapshot, which holds every record: no mark needed
  expect(fs.existsSync(path.join(wal, NEWEST_SEGMENT_FILE))).toBe(false);
  const second = await openStore(paths);
  for (let i = 0; i < 3; i++) await second.threads.create(`second ${i}`, () => undefined);
  for (let i = 0; i < 5; i++) await second.events.append(notice(`late ${i}`));
  expect(second.threads.list()).toHaveLength(6);
  const seenSeq = second.events.lastSeq;
  await crash(second); // the newest records are only in the segment
  const snapshotN = snapshotNumber(listSnapshots(wal).at(-1)!);
  expect(snapshotN).toBeGreaterThan(0);
  const segments = listSegments(wal);
  expect(segments.length).toBeGreaterThan(0);
  expect(readNewestSegmentMark(wal)).toBe(segments.at(-1));
  for (const s of segments) fs.rmSync(path.join(wal, s));
  const before = contents(wal);

  // The mark names the missing segment.
  const refused = await openStore(paths).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(refused).toBeInstanceOf(JournalRecordsLostError);
  expect(refused).toBeInstanceOf(JournalDamagedError); // exit 65, like other damage
  const message = (refused as Error).message;
  expect(message).toContain(wal);
  expect(message).toContain(segments.at(-1));
  expect(message).toContain('errand repair');
  expect(message).toContain('errand doctor');
  expect(message).toContain('put it back');
  expect(message).toMatch(/Changes acknowledged after record \d+ \(written [\d :-]+ UTC\) may be missing/);
  expect(contents(wal)).toEqual(before);

  // Without the mark too (lost with the segments): the snapshot has no segment after it.
  fs.rmSync(path.join(wal, NEWEST_SEGMENT_FILE));
  const beforeNoMark = contents(wal);
  await expect(openStore(paths)).rejects.toThrow(
    new RegExp(`no segment holds record ${snapshotN} or a later one.*errand repair`),
  );
  expect(contents(wal)).toEqual(beforeNoMark);

  expect(inspectJournal(wal).status).toBe('lost');
  const check = await repairCheck(paths.home);
  expect(check.code).toBe(1);
  expect(check.out).toContain('lost');
  const doctor = await doctorJournalCheck(paths.home);
  expect(doctor.status).toBe('fail');
  expect(doctor.detail).toMatch(
    new RegExp(`after record ${snapshotN} \\(written \\d{4}-\\d\\d-\\d\\d [\\d:]+ UTC\\) is gone`),
  );
  expect(doctor.fix).toContain('errand repair');
  expect(contents(wal)).toEqual(beforeNoMark);

  const repaired = await repairJournal(paths);
  expect(repaired.repaired).toBe(true);
  expect(repaired.lost).toContain('no segment holds');
  expect(repaired.message).toContain(`after record ${snapshotN}`);
  expect(repaired.message).toContain(repaired.backup);
  expect(contents(repaired.backup!)).toEqual(beforeNoMark); // the copy is the journal as found
  expect((await repairCheck(paths.home)).code).toBe(0);

  const third = await openStore(paths);
  expect(
    third.threads
      .list()
      .map((t) => t.title)
      .sort(),
  ).toEqual(['first 0', 'first 1', 'first 2']);
  // Numbers skip far past what the lost records can have used: none is given twice.
  expect(third.events.lastSeq).toBeGreaterThan(seenSeq);
  expect(third.events.lastSeq).toBeGreaterThanOrEqual(LOST_SEQ_GAP);
  expect(third.events.framesSince(seenSeq)).toBeUndefined(); // a phone that saw lost events gets a snapshot
  const next = await third.events.append(notice('after repair'));
  expect(next).toBeGreaterThan(seenSeq);
  await third.close();
});

it('the newest segment lost after a rotation, with the snapshot in an older one: refused, repaired, and a phone after the jump gets exactly its events', async () => {
  const paths = tmpHome();
  const wal = journalDirOf(paths);
  const opts = { segmentBytes: 1024 };
  let j = await openJournal(wal, opts);
  for (let i = 0; i < 10; i++) await j.events.append(notice(`before the snapshot ${i}`));
  await j.journal.snapshot();
  for (let i = 0; i < 40; i++) await j.events.append(notice(`after the snapshot ${i}`));
  const seenSeq = j.events.lastSeq;
  await shut(j, false);
  const segments = listSegments(wal);
  expect(segments.length).toBeGreaterThan(3);
  const newest = segments.at(-1)!;
  expect(readNewestSegmentMark(wal)).toBe(newest);
  fs.rmSync(path.join(wal, newest));
  // What is left still reaches past the snapshot: only the mark tells the newest segment is gone.
  const snapshotN = snapshotNumber(listSnapshots(wal).at(-1)!);
  expect(Math.max(...scanJournal(wal).records.map((r) => r.n))).toBeGreaterThan(snapshotN);

  await expect(openJournal(wal, opts)).rejects.toThrow(
    new RegExp(`newest segment ${newest} is missing.*errand repair`),
  );
  expect(inspectJournal(wal)).toMatchObject({ status: 'lost', file: path.join(wal, newest) });

  const repaired = await repairJournal(paths);
  expect(repaired.lost).toContain(newest);
  j = await openJournal(wal, opts);
  expect(j.events.lastSeq).toBeGreaterThan(seenSeq);
  expect(j.events.lastSeq).toBeGreaterThanOrEqual(LOST_SEQ_GAP);
  expect(j.events.framesSince(seenSeq)).toBeUndefined();
  const a = await j.events.append(notice('a'));
  const b = await j.events.append(notice('b'));
  const c = await j.events.append(notice('c'));
  expect(a).toBeGreaterThan(seenSeq);
  // The replay window does not span the jump in numbering (it is read by position).
  expect(seqsSince(j.events, a)).toEqual([b, c]);
  await shut(j, false); // a crash: the floor record and a, b, c are replayed at load
  j = await openJournal(wal, opts);
  expect(seqsSince(j.events, a)).toEqual([b, c]);
  await shut(j, true); // a clean stop: now the snapshot covers them
  j = await openJournal(wal, opts);
  await j.events.ready();
  expect(seqsSince(j.events, a)).toEqual([b, c]);
  expect(seqsSince(j.events, seenSeq)).toBeUndefined();
  await shut(j, true);
});

it('snapshots dropping segments never leave the journal looking cut off, at any segment boundary', async () => {
  const paths = tmpHome();
  const wal = journalDirOf(paths);
  // One segment per batch, and no segment kept for replay: snapshots drop all they may.
  for (const segmentBytes of [1, 300, 700]) {
    fs.rmSync(wal, { recursive: true, force: true });
    const opts = { segmentBytes, keepForReplayBytes: 0 };
    let j = await openJournal(wal, opts);
    let dropped = 0;
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < (round % 3) + 1; i++) await j.events.append(notice(`r${round} e${i}`));
      if (round % 4 !== 3) {
        const segs = listSegments(wal).length;
        await j.journal.snapshot();
        dropped += segs - listSegments(wal).length;
        const n = snapshotNumber(listSnapshots(wal).at(-1)!);
        expect(findLostRecords(wal, scanJournal(wal).records, { n })).toBeUndefined();
      }
      if (round % 5 === 4) {
        const seq = j.events.lastSeq;
        await shut(j, round % 2 === 0);
        j = await openJournal(wal, opts);
        expect(j.events.lastSeq).toBe(seq);
      }
    }
    expect(dropped).toBeGreaterThan(0);
    expect(inspectJournal(wal).status).toBe('ok');
    await shut(j, true);
  }
});

it('a mark left behind by an older Errand that moved on without it (and dropped the segment it names) is not taken for a loss', async () => {
  const paths = tmpHome();
  const wal = journalDirOf(paths);
  const opts = { segmentBytes: 600 };
  let j = await openJournal(wal, opts);
  for (let i = 0; i < 10; i++) await j.events.append(notice(`n${i}`));
  const first = listSegments(wal)[0];
  expect(readNewestSegmentMark(wal)).not.toBe(first);
  for (let i = 0; i < 10; i++) await j.events.append(notice(`m${i}`));
  await j.journal.snapshot();
  const seq = j.events.lastSeq;
  await shut(j, false);
  // As that Errand left it: the mark names the first segment, which its snapshot let it drop.
  await writeNewestSegmentMark(wal, first);
  fs.rmSync(path.join(wal, first));
  j = await openJournal(wal, opts);
  expect(j.events.lastSeq).toBe(seq);
  await shut(j, true);
});

it('repair of a damaged middle removes later segments and the next start does not take them for lost', async () => {
  const paths = tmpHome();
  const wal = journalDirOf(paths);
  const opts = { segmentBytes: 600 };
  let j = await openJournal(wal, opts);
  for (let i = 0; i < 30; i++) await j.events.append(notice(`n${i}`));
  const seenSeq = j.events.lastSeq;
  await shut(j, false);
  const segments = listSegments(wal);
  expect(segments.length).toBeGreaterThan(3);
  // Damage the second record of the second segment: valid records follow, here and in later segments.
  const file = path.join(wal, segments[1]);
  const buf = fs.readFileSync(file);
  const second = 8 + buf.readUInt32LE(0);
  buf[second + 20] ^= 0xff;
  fs.writeFileSync(file, buf);
  await expect(openJournal(wal, opts)).rejects.toThrow(/is damaged at byte/);
  expect(inspectJournal(wal).status).toBe('damaged');

  const repaired = await repairJournal(paths);
  expect(repaired).toMatchObject({ repaired: true });
  expect(repaired.lost).toBeUndefined();
  expect(listSegments(wal)).toEqual(segments.slice(0, 2));
  expect(readNewestSegmentMark(wal)).toBe(segments[1]);
  j = await openJournal(wal, opts);
  const next = await j.events.append(notice('after repair'));
  expect(next).toBeGreaterThan(seenSeq);
  expect(next).toBeLessThan(seenSeq + 10); // nothing was lost: no skip past unknown numbers
  await shut(j, true);
});

it('a home migrated from before the journal (snapshot at 0, no segment) starts, crashes and starts again; losing its only segment is noticed', async () => {
  const paths = tmpHome();
  fs.mkdirSync(paths.store, { recursive: true });
  fs.writeFileSync(
    path.join(paths.store, 'index.json'),
    JSON.stringify({ schema: 1, hostId: 'host_legacyHost01', writtenAt: 3000, threads: {} }),
  );
  fs.mkdirSync(paths.events, { recursive: true });
  fs.writeFileSync(
    path.join(paths.events, 'events-000000000001.jsonl'),
    `${[1, 2, 3].map((seq) => JSON.stringify({ seq, at: 1000, event: notice(`old ${seq}`) })).join('\n')}\n`,
  );
  const wal = journalDirOf(paths);
  let store = await openStore(paths);
  expect(store.journal.notices.join(' ')).toContain('moved into the journal');
  expect(listSnapshots(wal)).toHaveLength(1);
  expect(listSegments(wal)).toEqual([]);
  expect(store.events.lastSeq).toBe(3);
  await crash(store);
  store = await openStore(paths); // nothing written since the migration: no segment, and none missing
  await store.threads.create('after the migration', () => undefined);
  await crash(store);
  store = await openStore(paths);
  expect(store.threads.list().map((t) => t.title)).toEqual(['after the migration']);
  await crash(store);
  fs.rmSync(path.join(wal, listSegments(wal)[0]));
  await expect(openStore(paths)).rejects.toThrow(JournalRecordsLostError);
});
