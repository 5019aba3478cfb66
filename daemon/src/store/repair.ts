// Look at the journal without starting the daemon (`errand doctor`), and repair a damaged one
// (`errand repair`): keep a copy, cut at the last good record (or go on from what is left when the
// newest records are gone), say what was dropped. Sequence numbers of dropped events are never
// given again (a floor record keeps the numbering going).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { HomePaths } from '../config/paths.js';
import { fsyncDir } from './durable-file.js';
import {
  findLostRecords,
  frameRecord,
  type JournalRecord,
  listSegments,
  listSnapshots,
  lostAfter,
  readNewestSegmentMark,
  readRecordAt,
  SEQ_FLOOR_OP,
  SNAPSHOT_FIX,
  scanJournal,
  segmentName,
  snapshotNumber,
  writeNewestSegmentMark,
} from './journal.js';
import { openSnapshot } from './snapshot-file.js';

export const journalDirOf = (paths: HomePaths) => path.join(paths.store, 'wal');

/**
 * The newest records are gone and how many cannot be known: numbering skips this far past the last
 * number left. A segment holds about 32 MB, under a million events; this is far above what lost
 * segments can have used, and a 2^53 number space leaves room for millions of such repairs.
 */
export const LOST_SEQ_GAP = 1_000_000_000;

export interface JournalHealth {
  /** `lost`: the newest records are gone (a segment deleted, or lost in a restore). */
  /** `snapshot`: the newest snapshot cannot be read (nothing here can rebuild it). */
  status: 'ok' | 'empty' | 'torn' | 'damaged' | 'lost' | 'snapshot';
  records: number;
  detail: string;
  file?: string;
  offset?: number;
  eventsAfter?: number;
  /** With `lost`: the last record left; what was recorded after it is gone. */
  lastRecord?: number;
}

/** The newest snapshot's number and time (its head only; a damaged one counts as none: start says so). */
function newestSnapshot(dir: string): { n: number; seq: number; at: number } {
  const name = listSnapshots(dir).at(-1);
  if (!name) return { n: 0, seq: 0, at: 0 };
  try {
    const snap = openSnapshot(path.join(dir, name));
    snap.source?.close();
    return { n: snap.head.n, seq: snap.head.seq, at: snap.head.at ?? 0 };
  } catch {
    return { n: snapshotNumber(name), seq: 0, at: 0 };
  }
}

export function inspectJournal(dir: string): JournalHealth {
  if (!listSegments(dir).length && !listSnapshots(dir).length && !readNewestSegmentMark(dir))
    return { status: 'empty', records: 0, detail: 'no journal yet' };
  // The snapshot first: a running daemon drops segments only after writing a newer snapshot.
  const snapName = listSnapshots(dir).at(-1);
  if (snapName) {
    const file = path.join(dir, snapName);
    try {
      openSnapshot(file).source?.close(); // as start opens it
    } catch (err) {
      return {
        status: 'snapshot',
        records: 0,
        file,
        detail: `the snapshot ${file} is damaged (${(err as Error).message})`,
      };
    }
  }
  const snapshot = newestSnapshot(dir);
  const scan = scanJournal(dir);
  if (scan.damaged) {
    const d = scan.damaged;
    return {
      status: 'damaged',
      records: scan.records.length,
      file: d.file,
      offset: d.offset,
      eventsAfter: d.eventsAfter,
      detail: `${d.file} is damaged at byte ${d.offset} (${d.problem}); ${d.eventsAfter} event(s) in valid records follow it`,
    };
  }
  const lost = findLostRecords(dir, scan.records, snapshot);
  if (lost)
    return {
      status: 'lost',
      records: scan.records.length,
      file: lost.file,
      lastRecord: lost.lastRecord,
      detail: `${lost.problem}: what was recorded ${lostAfter(lost)} is gone`,
    };
  if (scan.torn)
    return {
      status: 'torn',
      records: scan.records.length,
      file: scan.torn.file,
      offset: scan.torn.offset,
      detail: `the last record of ${path.basename(scan.torn.file)} was cut off by a crash (${scan.torn.bytes} bytes, never acknowledged); the next start removes it and keeps the bytes aside`,
    };
  return { status: 'ok', records: scan.records.length, detail: `${scan.records.length} record(s), all checksums good` };
}

export interface RepairResult {
  repaired: boolean;
  message: string;
  backup?: string;
  droppedRecords?: number;
  droppedEvents?: number;
  /** The newest records were gone: what was found. */
  lost?: string;
  /** The damage is of a kind repair cannot fix (a damaged snapshot): the message says what to do. */
  cannot?: true;
}

/** Every valid record after a damaged place (the damaged segment's rest and all later segments). */
function recordsAfter(dir: string, file: string, offset: number): JournalRecord[] {
  const out: JournalRecord[] = [];
  const names = listSegments(dir);
  const from = names.indexOf(path.basename(file));
  for (let i = from; i < names.length; i++) {
    const buf = fs.readFileSync(path.join(dir, names[i]));
    let off = i === from ? offset + 1 : 0;
    while (off + 8 <= buf.length) {
      const r = readRecordAt(buf, off);
      if (typeof r === 'string') {
        off++;
        continue;
      }
      out.push(r.rec);
      off = r.end;
    }
  }
  return out;
}

export async function repairJournal(paths: HomePaths): Promise<RepairResult> {
  const dir = journalDirOf(paths);
  const health = inspectJournal(dir);
  if (health.status === 'snapshot')
    return { repaired: false, cannot: true, message: `Not repaired: ${health.detail}. ${SNAPSHOT_FIX}` };
  if (health.status !== 'damaged' && health.status !== 'lost')
    return {
      repaired: false,
      message:
        health.status === 'torn'
          ? `Nothing to repair: ${health.detail}.`
          : `Nothing to repair: the journal is whole (${health.detail}).`,
    };
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const backup = path.join(paths.backups, `journal-before-repair-${stamp}`);
  await fsp.mkdir(paths.backups, { recursive: true, mode: 0o700 });
  await fsp.cp(dir, backup, { recursive: true });

  const snapshot = newestSnapshot(dir);
  const snapN = snapshot.n;
  const scan = scanJournal(dir);
  const names = listSegments(dir);
  const dropped = scan.damaged ? recordsAfter(dir, scan.damaged.file, scan.damaged.offset) : [];
  // Records after a damaged one are there, only cut off: not lost.
  const lost = findLostRecords(dir, [...scan.records, ...dropped], snapshot);
  let floorFile: string;
  if (scan.damaged) {
    // Cut at the damaged record; later segments go (their copy is in the backup).
    const { file, offset } = scan.damaged;
    fs.truncateSync(file, offset);
    for (const name of names.slice(names.indexOf(path.basename(file)) + 1))
      fs.rmSync(path.join(dir, name), { force: true });
    floorFile = file;
  } else {
    // Only the newest records are gone: go on from what is left. A torn tail was never acknowledged
    // (its copy is in the backup); cut now, or it would sit before the floor record.
    if (scan.torn) fs.truncateSync(scan.torn.file, scan.torn.offset);
    const newest = names.at(-1);
    floorFile = path.join(dir, newest ?? segmentName(snapN + 1));
  }
  const droppedEvents = dropped.reduce((n, r) => n + r.events.length, 0);
  let lastGood: JournalRecord | undefined;
  for (const r of scan.records) if (!lastGood || r.n > lastGood.n) lastGood = r;
  // Everything numbered after what the kept records and the snapshot hold is gone (the damaged
  // record's events too, though they cannot be counted).
  let keptSeq = snapshot.seq;
  for (const r of scan.records) for (const e of r.events) keptSeq = Math.max(keptSeq, e.seq);
  let maxSeq = keptSeq;
  for (const r of dropped) for (const e of r.events) maxSeq = Math.max(maxSeq, e.seq);
  // Lost records used numbers nobody can count any more: skip far past them.
  if (lost) maxSeq += LOST_SEQ_GAP;

  // Keep event numbering above everything that was ever written.
  const floor: JournalRecord = {
    n: Math.max(lastGood?.n ?? 0, snapN) + 1,
    at: Date.now(),
    ops: [{ t: SEQ_FLOOR_OP, d: { seq: maxSeq, ...(maxSeq > keptSeq ? { droppedFrom: keptSeq + 1 } : {}) } }],
    events: [],
  };
  const fd = fs.openSync(floorFile, 'a', 0o600);
  try {
    fs.writeSync(fd, frameRecord(floor));
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  await fsyncDir(dir);
  // The floor's segment is now the newest: the mark names it, or the next start would find the
  // segments removed above missing.
  await writeNewestSegmentMark(dir, path.basename(floorFile));

  const parts = [`Kept a copy of the journal in ${backup}.`];
  if (scan.damaged)
    parts.push(
      `Cut ${scan.damaged.file} at byte ${scan.damaged.offset}, after the last good record` +
        `${lastGood ? ` (number ${lastGood.n})` : ''}. Dropped ${dropped.length} record(s) holding ${droppedEvents} event(s) after it.`,
    );
  if (lost) {
    parts.push(
      `The journal's newest records were gone (${lost.problem}): what was recorded ${lostAfter(lost)} is lost and cannot be counted; Errand goes on from what is left.` +
        ` Event numbers go on from ${maxSeq + 1}, so none is given twice. If the missing file turns up, it cannot be added back; keep it for reference.`,
    );
  }
  parts.push(
    'Phones that saw dropped events get a fresh copy of the thread list when they reconnect. Start Errand again.',
  );
  return {
    repaired: true,
    backup,
    droppedRecords: dropped.length,
    droppedEvents,
    ...(lost ? { lost: lost.problem } : {}),
    message: parts.join(' '),
  };
}
