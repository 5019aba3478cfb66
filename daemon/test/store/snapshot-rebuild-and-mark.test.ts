// A damaged newest snapshot is only a cache when the journal still holds every record it was made
// from: then start names `errand repair` as the fix, and repair keeps a copy, removes the snapshot
// and the next start rebuilds the same state from the journal. "Cannot rebuild" is said only when
// records are really missing, naming them. And a damaged newest-segment mark is never taken for an
// absent one: start refuses (a lost newest segment could not be noticed), doctor and
// `repair --check` say so, and repair goes on without giving an event number twice.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { homePaths } from '../../src/config/paths.js';
import { openStore, type Store, type StoreOptions } from '../../src/store/index.js';
import {
  listSegments,
  listSnapshots,
  NEWEST_SEGMENT_FILE,
  newestSegmentMark,
  readNewestSegmentMark,
} from '../../src/store/journal.js';
import { inspectJournal, journalDirOf, LOST_SEQ_GAP, repairJournal } from '../../src/store/repair.js';
import { ensureBuilt } from '../agent/build.js';
import { runErrand } from '../helpers/cli.js';
import { tempHome } from '../helpers/daemon.js';

const homes: string[] = [];
beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 180_000);
afterEach(() => {
  for (const h of homes.splice(0)) fs.rmSync(h, { recursive: true, force: true });
});

const TITLES = ['Plan the garden', 'Taxes 2024', 'Fix the bike', 'Read the lease', 'Call the bank'];

/** A home written by the real store: five threads, a clean stop (a snapshot). */
async function homeWithSnapshot(opts: StoreOptions = {}) {
  const home = tempHome('errand-snaprebuild-');
  homes.push(home);
  const paths = homePaths(home);
  const store = await openStore(paths, opts);
  for (const title of TITLES)
    await store.threads.create(title, (d) => {
      d.items.push({ kind: 'user', id: `u-${title}`, taskId: 't1', text: `${title} ${'x'.repeat(400)}`, createdAt: 1 });
    });
  await store.close();
  const wal = journalDirOf(paths);
  const snapshot = path.join(wal, listSnapshots(wal).at(-1)!);
  return { home, paths, wal, snapshot };
}

/** One byte changed in the snapshot's head line (a bad sector): its first key's quote, so the head cannot be parsed. */
function flipHeadByte(file: string): Buffer {
  const buf = fs.readFileSync(file);
  expect(buf[1]).toBe(0x22);
  buf[1] = 0x5a;
  fs.writeFileSync(file, buf);
  return buf;
}

const titlesOf = (store: Store) =>
  store.threads
    .list(true)
    .map((t) => t.title)
    .sort();

async function doctorJournal(home: string) {
  const doctor = await runErrand(['doctor', '--json'], { ERRAND_HOME: home, ERRAND_PORT: '0' });
  return (
    JSON.parse(doctor.stdout) as { checks: Array<{ id: string; status: string; detail: string; fix?: string }> }
  ).checks.find((c) => c.id === 'journal')!;
}

it('a damaged snapshot whose records are all in the journal: start names `errand repair`, repair removes it (a copy kept), and the state comes back whole', async () => {
  const { home, paths, wal, snapshot } = await homeWithSnapshot();
  expect(listSegments(wal)[0]).toBe('seg-0000000000000001.wal');
  const damaged = flipHeadByte(snapshot);
  const env = { ERRAND_HOME: home, ERRAND_PORT: '0' }; // a start that went on anyway takes any free port

  const refused = await runErrand(['start'], env);
  expect(refused.code).toBe(65);
  expect(refused.stderr).toContain(snapshot);
  expect(refused.stderr).toContain('The journal still holds every record it was made from');
  expect(refused.stderr).toContain('run `errand repair`');
  expect(refused.stderr).not.toContain('cannot rebuild');
  expect(fs.readFileSync(snapshot).equals(damaged)).toBe(true);

  const check = await doctorJournal(home);
  expect(check.status).toBe('fail');
  expect(check.detail).toContain('can rebuild it');
  expect(check.fix).toContain('rebuilds the state from the journal');

  const dry = await runErrand(['repair', '--check'], env);
  expect(dry.code).toBe(1);
  expect(dry.stdout).toContain('can rebuild it');

  const repair = await runErrand(['repair'], env);
  expect(repair.code).toBe(0);
  expect(repair.stdout).toContain(`Removed the damaged snapshot ${path.basename(snapshot)}`);
  expect(repair.stdout).toContain('nothing is lost');
  expect(fs.existsSync(snapshot)).toBe(false);
  const backups = fs.readdirSync(paths.backups).filter((b) => b.startsWith('journal-before-repair-'));
  expect(backups).toHaveLength(1);
  expect(fs.readFileSync(path.join(paths.backups, backups[0], path.basename(snapshot))).equals(damaged)).toBe(true);
  expect(repair.stdout).toContain(path.join(paths.backups, backups[0]));
  expect(inspectJournal(wal).status).toBe('ok');

  // The next start rebuilds every thread from the journal, each readable.
  const store = await openStore(paths);
  try {
    expect(titlesOf(store)).toEqual([...TITLES].sort());
    for (const t of store.threads.list(true)) expect((await store.threads.load(t.id)).items).toHaveLength(1);
  } finally {
    await store.close();
  }
});

it('a damaged snapshot whose older records are gone from the journal: start, doctor and repair say it cannot be rebuilt, name the missing records, and change nothing', async () => {
  // Small segments, none kept for replay: the clean stop's snapshot drops the segments it covers.
  const { home, wal, snapshot } = await homeWithSnapshot({ journal: { segmentBytes: 600, keepForReplayBytes: 0 } });
  const oldest = Number(/seg-(\d+)/.exec(listSegments(wal)[0])![1]);
  expect(oldest).toBeGreaterThan(1);
  flipHeadByte(snapshot);
  const before = fs.readdirSync(wal).map((f) => [f, fs.readFileSync(path.join(wal, f)).toString('base64')]);
  const env = { ERRAND_HOME: home, ERRAND_PORT: '0' }; // a start that went on anyway takes any free port
  const missing = `records 1 to ${oldest - 1} are in no segment`;

  const refused = await runErrand(['start'], env);
  expect(refused.code).toBe(65);
  expect(refused.stderr).toContain('`errand repair` cannot rebuild the snapshot');
  expect(refused.stderr).toContain(missing);
  expect(refused.stderr).toContain('Restore the store folder from a backup');

  const check = await doctorJournal(home);
  expect(check).toMatchObject({ status: 'fail', fix: expect.stringContaining('cannot rebuild this snapshot') });
  expect(check.detail).toContain(missing);

  const repair = await runErrand(['repair'], env);
  expect(repair.code).toBe(1);
  expect(repair.stdout).toContain('Not repaired');
  expect(repair.stdout).toContain(missing);
  expect(fs.readdirSync(wal).map((f) => [f, fs.readFileSync(path.join(wal, f)).toString('base64')])).toEqual(before);
});

it('a home moved into the journal from the release before it: its first state is only in snapshots, so record 1 is no place to rebuild from', async () => {
  const home = tempHome('errand-snaprebuild-');
  homes.push(home);
  const paths = homePaths(home);
  fs.mkdirSync(paths.store, { recursive: true, mode: 0o700 });
  fs.writeFileSync(
    path.join(paths.store, 'index.json'),
    JSON.stringify({ schema: 1, hostId: 'host_fromBeforeJournal' }),
  );
  const store = await openStore(paths); // migrates: the old state becomes snapshot 0
  for (const title of TITLES) await store.threads.create(title, () => undefined);
  await store.close();
  const wal = journalDirOf(paths);
  expect(listSegments(wal)[0]).toBe('seg-0000000000000001.wal');
  const snapshot = path.join(wal, listSnapshots(wal).at(-1)!);
  flipHeadByte(snapshot);

  const r = await repairJournal(paths);
  expect(r).toMatchObject({ repaired: false, cannot: true });
  expect(r.message).toContain('record 1 is not where this home began');
  expect(fs.existsSync(snapshot)).toBe(true);
});

it('an older snapshot left beside the damaged one (a stop cut off before removing it) is where the rebuild starts', async () => {
  const segmentsSmall = { journal: { segmentBytes: 600, keepForReplayBytes: 0 } };
  const { paths, wal, snapshot: older } = await homeWithSnapshot(segmentsSmall);
  expect(listSegments(wal)[0]).not.toBe('seg-0000000000000001.wal');
  const olderBytes = fs.readFileSync(older);
  // More records, kept for replay this time, then a stop whose snapshot replaces the older one.
  const store = await openStore(paths, { journal: { segmentBytes: 600 } });
  await store.threads.create('Added later', () => undefined);
  await store.close();
  const newest = path.join(wal, listSnapshots(wal).at(-1)!);
  expect(newest).not.toBe(older);
  fs.writeFileSync(older, olderBytes); // as a stop killed between writing the new one and removing it
  flipHeadByte(newest);

  const r = await repairJournal(paths);
  expect(r.repaired).toBe(true);
  expect(r.message).toContain(`after the older snapshot ${path.basename(older)}`);
  expect(listSnapshots(wal)).toEqual([path.basename(older)]);
  const again = await openStore(paths);
  try {
    expect(titlesOf(again)).toEqual([...TITLES, 'Added later'].sort());
  } finally {
    await again.close();
  }
});

it('a damaged newest-segment mark is not taken for an absent one: start refuses, doctor and repair --check say so, repair writes it again and skips event numbers', async () => {
  const home = tempHome('errand-snaprebuild-');
  homes.push(home);
  const paths = homePaths(home);
  const wal = journalDirOf(paths);
  const store = await openStore(paths);
  for (const title of TITLES) await store.threads.create(title, () => undefined);
  const seenSeq = store.events.lastSeq;
  // A kill -9: no snapshot, the mark stays.
  await store.backedUp;
  await store.journal.close(false);
  store.threads.close();
  store.events.closeWindow();
  const markFile = path.join(wal, NEWEST_SEGMENT_FILE);
  expect(readNewestSegmentMark(wal)).toBe(listSegments(wal).at(-1));
  fs.writeFileSync(markFile, '{x\n');
  const env = { ERRAND_HOME: home, ERRAND_PORT: '0' }; // a start that went on anyway takes any free port

  const refused = await runErrand(['start'], env);
  expect(refused.code).toBe(65);
  expect(refused.stderr).toContain(`newest-segment mark ${markFile} cannot be read`);
  expect(refused.stderr).toContain('check that every seg-*.wal file is in the store/wal folder');
  expect(refused.stderr).toContain('`errand repair`');

  const check = await doctorJournal(home);
  expect(check.status).toBe('fail');
  expect(check.detail).toContain(`${markFile} cannot be read`);
  expect(check.fix).toContain('check that every seg-*.wal file');

  const dry = await runErrand(['repair', '--check'], env);
  expect(dry.code).toBe(1);
  expect(dry.stdout).toContain(`${markFile} cannot be read`);
  expect(fs.readFileSync(markFile, 'utf8')).toBe('{x\n');

  const repair = await runErrand(['repair'], env);
  expect(repair.code).toBe(0);
  expect(repair.stdout).toContain('newest-segment mark could not be read');
  expect(readNewestSegmentMark(wal)).toBe(listSegments(wal).at(-1));
  const backups = fs.readdirSync(paths.backups).filter((b) => b.startsWith('journal-before-repair-'));
  expect(fs.readFileSync(path.join(paths.backups, backups[0], NEWEST_SEGMENT_FILE), 'utf8')).toBe('{x\n');

  const again = await openStore(paths);
  try {
    expect(titlesOf(again)).toEqual([...TITLES].sort());
    expect(again.events.lastSeq).toBeGreaterThanOrEqual(seenSeq + LOST_SEQ_GAP);
  } finally {
    await again.close();
  }
});

it('the mark: absent and unreadable are told apart', () => {
  const dir = tempHome('errand-snaprebuild-');
  homes.push(dir);
  expect(newestSegmentMark(dir)).toEqual({ absent: true });
  fs.writeFileSync(path.join(dir, NEWEST_SEGMENT_FILE), '{x\n');
  expect(newestSegmentMark(dir)).toMatchObject({ unreadable: expect.stringContaining('not valid JSON') });
  fs.writeFileSync(path.join(dir, NEWEST_SEGMENT_FILE), '{"v":1,"segment":"not-a-segment"}');
  expect(newestSegmentMark(dir)).toEqual({ unreadable: 'it names no segment file' });
  expect(inspectJournal(dir).status).toBe('lost');
});
