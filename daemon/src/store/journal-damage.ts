// What the journal says when its files are damaged or its newest records are gone: the newest-segment
// mark, the errors start refuses with, and whether the journal can stand in for a damaged snapshot.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileDurably } from './durable-file.js';
import {
  type JournalRecord,
  listSegments,
  listSnapshots,
  SEGMENT,
  scanJournal,
  segmentName,
  snapshotNumber,
} from './journal-format.js';
import { findDamagedPart } from './snapshot-file.js';

/**
 * Names the newest segment. Records after the last snapshot live only in segments, so a newest
 * segment deleted or lost in a restore would otherwise go unnoticed: load refuses when the segment
 * it names is gone. Written (durably) before the first record goes into a segment it does not name
 * (a new segment, or the first append after a start), never per record. A clean stop, whose
 * snapshot holds every record, removes it: nothing after the snapshot can be lost then.
 */
export const NEWEST_SEGMENT_FILE = 'newest-segment.json';

/**
 * The newest-segment mark as found: the segment it names, absent (a clean stop, or a home from
 * before it), or unreadable (damaged: then nobody can tell whether the newest segment is there).
 */
export type NewestSegmentMark = { segment: string } | { absent: true } | { unreadable: string };

export function newestSegmentMark(dir: string): NewestSegmentMark {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, NEWEST_SEGMENT_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { absent: true };
    return { unreadable: (err as Error).message };
  }
  let v: { segment?: unknown } | null;
  try {
    v = JSON.parse(text) as { segment?: unknown } | null;
  } catch (err) {
    return { unreadable: `not valid JSON: ${(err as Error).message}` };
  }
  return typeof v?.segment === 'string' && SEGMENT.test(v.segment)
    ? { segment: v.segment }
    : { unreadable: 'it names no segment file' };
}

/** The segment the mark names; undefined when it is absent or unreadable (newestSegmentMark tells which). */
export function readNewestSegmentMark(dir: string): string | undefined {
  const mark = newestSegmentMark(dir);
  return 'segment' in mark ? mark.segment : undefined;
}

export function writeNewestSegmentMark(dir: string, segment: string): Promise<void> {
  return writeFileDurably(path.join(dir, NEWEST_SEGMENT_FILE), `${JSON.stringify({ v: 1, segment })}\n`, false);
}

/** The newest records are gone: what load, `errand doctor` and `errand repair` say about it. */
export interface LostRecords {
  /** The missing segment, or the journal folder when which one is not known. */
  file: string;
  problem: string;
  /** The last record left (in a segment or the snapshot): changes after it are gone. */
  lastRecord: number;
  /** When it was written, when known (0 when not). */
  lastAt: number;
  /** The mark cannot be read: records may be gone, and nobody can tell. */
  uncertain?: true;
}

/**
 * Whether the newest records are gone: the segment the mark names is missing and no record from its
 * first number on is left, or a snapshot at n > 0 has no segment holding record n or a later one
 * (snapshot() always keeps the segment holding its last record, or one starting right after it).
 * `records` are the records the segments hold.
 */
export function findLostRecords(
  dir: string,
  records: JournalRecord[],
  snapshot: { n: number; at?: number },
): LostRecords | undefined {
  const snapshotN = snapshot.n;
  let lastRecord = snapshotN;
  let lastAt = snapshot.at ?? 0;
  for (const r of records) {
    if (r.n > lastRecord) lastRecord = r.n;
    if (r.at > lastAt) lastAt = r.at; // 0 in records left unparsed (covered by the snapshot)
  }
  const top = records.reduce((m, r) => Math.max(m, r.n), 0);
  // Mark first, then the folder: a running daemon writes a new segment before the mark that names it.
  for (let tries = 0; tries < 3; tries++) {
    const found = newestSegmentMark(dir);
    // A damaged mark is no answer: a newest segment lost with it would go unnoticed.
    if ('unreadable' in found)
      return {
        file: path.join(dir, NEWEST_SEGMENT_FILE),
        problem: `its newest-segment mark ${path.join(dir, NEWEST_SEGMENT_FILE)} cannot be read (${found.unreadable}), so nobody can tell whether its newest segment is still there`,
        lastRecord,
        lastAt,
        uncertain: true,
      };
    const mark = 'segment' in found ? found.segment : undefined;
    const segments = listSegments(dir);
    // Records in later segments (an older Errand, run meanwhile, moved on without the mark) leave
    // any gap to the checks of record numbers.
    if (mark && !segments.includes(mark) && top < Number(SEGMENT.exec(mark)![1])) {
      if (readNewestSegmentMark(dir) !== mark) continue; // moved on meanwhile: look again
      return { file: path.join(dir, mark), problem: `its newest segment ${mark} is missing`, lastRecord, lastAt };
    }
    if (snapshotN > 0 && top < snapshotN && !segments.includes(segmentName(snapshotN + 1)))
      return {
        file: dir,
        problem: `the snapshot holds records up to ${snapshotN}, but no segment holds record ${snapshotN} or a later one`,
        lastRecord,
        lastAt,
      };
    return undefined;
  }
  return undefined;
}

export class JournalDamagedError extends Error {
  readonly exitCode = 65; // EX_DATAERR
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly problem: string,
    readonly eventsAfter: number,
  ) {
    super(
      `The journal file ${file} is damaged at byte ${offset} (${problem}), and valid records follow it. Errand did not change it. ` +
        `Run \`errand repair\` to keep a copy and cut the journal at the last good record` +
        `${eventsAfter ? ` (${eventsAfter} event(s) after it would be dropped)` : ''}, or restore the store folder from the backups folder.`,
    );
  }
}

/** The newest snapshot cannot be read: start refuses; `fix` says whether `errand repair` can rebuild it. */
export class SnapshotDamagedError extends JournalDamagedError {
  constructor(file: string, problem: string, fix: string) {
    super(file, 0, problem, 0);
    this.message = `The journal's snapshot ${file} is damaged (${problem}). Errand did not change it. ${fix}`;
  }
}

/**
 * A new home's first record holds its host id (ThreadStore.ready): from such a record on, the
 * segments are the home's whole history. A home moved into the journal from an older Errand has its
 * first state only in a snapshot (migrate.ts), and its record 1 holds no host id.
 */
const FIRST_RECORD_OP = 'host';

/** Whether the journal can stand in for the newest snapshot, damaged (see snapshotRebuild). */
export type SnapshotRebuild =
  | { ok: true; upTo: number; fromN: number; from?: string }
  | { ok: false; upTo: number; missing: string };

/**
 * Whether the state a damaged newest snapshot (`name`) holds can be rebuilt without it: starting
 * from an older snapshot that reads whole, or from the home's first record, every record up to the
 * damaged one's number must be in the segments, whole and in order. Only then is it just a cache.
 */
export function snapshotRebuild(dir: string, name: string): SnapshotRebuild {
  const upTo = snapshotNumber(name);
  const bases: Array<{ n: number; name?: string }> = [];
  for (const older of listSnapshots(dir).reverse()) {
    if (snapshotNumber(older) >= upTo) continue;
    try {
      if (!findDamagedPart(path.join(dir, older))) bases.push({ n: snapshotNumber(older), name: older });
    } catch {
      // Damaged too: not a place to start from.
    }
  }
  bases.push({ n: 0 });
  let firstProblem: string | undefined;
  for (const base of bases) {
    const problem = recordsMissing(dir, base, upTo);
    if (!problem) return { ok: true, upTo, fromN: base.n, ...(base.name ? { from: base.name } : {}) };
    firstProblem ??= base.name ? `${problem} (counting from the older snapshot ${base.name})` : problem;
  }
  return {
    ok: false,
    upTo,
    missing: `${firstProblem}, so the state the snapshot holds up to record ${upTo} cannot be rebuilt from the journal`,
  };
}

/** Why the segments cannot take a snapshot's place from `base` up to record `upTo`; undefined when they can. */
function recordsMissing(dir: string, base: { n: number }, upTo: number): string | undefined {
  const scan = scanJournal(dir, Number.NEGATIVE_INFINITY, base.n);
  if (base.n === 0) {
    const first = scan.records[0];
    if (first?.n === 1 && !first.ops.some((op) => op.t === FIRST_RECORD_OP))
      return 'record 1 is not where this home began (it was moved into the journal from an older Errand, and its first state is only in snapshots)';
  }
  let next = base.n + 1;
  for (const r of scan.records) {
    if (r.n < next) continue;
    if (r.n > next || next > upTo) break;
    next++;
  }
  // The home's first record is needed even for a snapshot of record 0 (a migrated home's first state).
  if (next > upTo && (base.n > 0 || next > 1)) return undefined;
  const after = scan.records.find((r) => r.n > next);
  if (after) return `records ${next} to ${after.n - 1} are in no segment (the next one left is record ${after.n})`;
  const cut = scan.damaged ?? scan.torn;
  if (cut)
    return `${cut.file} is damaged at byte ${cut.offset}, so records ${next} to ${Math.max(next, upTo)} cannot be read`;
  return next === base.n + 1
    ? `no segment holds record ${next} or a later one`
    : `the journal ends at record ${next - 1}, so records ${next} to ${upTo} are in no segment`;
}

/** What to do about a damaged newest snapshot (start, `errand doctor`), from whether the journal can stand in for it. */
export function damagedSnapshotFix(r: SnapshotRebuild): string {
  return r.ok
    ? `The journal still holds every record it was made from (${rebuildSource(r)}): run \`errand repair\` with Errand stopped. It keeps a copy of the journal and removes the damaged snapshot; the next start rebuilds the state from the journal.`
    : `\`errand repair\` cannot rebuild the snapshot: ${r.missing}. Restore the store folder from a backup of your home if you have one.`;
}

/** Which records the state is rebuilt from, for people. */
export const rebuildSource = (r: Extract<SnapshotRebuild, { ok: true }>) =>
  r.from
    ? `records ${r.fromN + 1} to ${r.upTo}, after the older snapshot ${r.from}`
    : `records 1 to ${r.upTo}, from the home's first record on`;

/** When a record was written, for people: `2025-01-31 14:05:09 UTC`. */
export const recordTime = (at: number) => `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

/** What was lost, for people: after which record, and when it was written. */
export const lostAfter = (lost: LostRecords) =>
  `after record ${lost.lastRecord}${lost.lastAt ? ` (written ${recordTime(lost.lastAt)})` : ''}`;

/** The newest records are gone (a segment deleted, or lost in a restore): start refuses. */
export class JournalRecordsLostError extends JournalDamagedError {
  constructor(
    readonly dir: string,
    readonly lost: LostRecords,
  ) {
    super(lost.file, 0, lost.problem, 0);
    this.message = lost.uncertain
      ? `The journal in ${dir} cannot show that it still has its newest records: ${lost.problem}. Changes acknowledged ${lostAfter(lost)} may be missing, so Errand did not start, and it changed nothing. ` +
        `${MARK_UNREADABLE_FIX} \`errand doctor\` says the same.`
      : `The journal in ${dir} has lost its newest records: ${lost.problem}. Changes acknowledged ${lostAfter(lost)} may be missing, so Errand did not start, and it changed nothing. ` +
        `If you have a copy of the missing segment file (another disk, a backup), put it back in ${dir}. ` +
        'Otherwise run `errand repair`: it keeps a copy of the journal and goes on from what is left (the lost changes cannot be recovered). `errand doctor` says the same.';
  }
}

/** What to do when the newest-segment mark cannot be read (start, `errand doctor`). */
export const MARK_UNREADABLE_FIX =
  'If this home was restored from a backup or its files were moved, check that every seg-*.wal file is in the store/wal folder and put back any that is missing. ' +
  'Then run `errand repair` (with Errand stopped): it keeps a copy of the journal, writes the mark again and goes on from the segments there; event numbers skip ahead, so none a phone holds is given twice.';

export class DiskFullError extends Error {
  constructor(readonly dir: string) {
    super(`disk full at ${dir}`);
  }
}
