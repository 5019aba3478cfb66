// Look at the journal without starting the daemon (`errand doctor`), and repair a damaged one
// (`errand repair`): keep a copy, cut at the last good record (or go on from what is left when the
// newest records are gone), remove a damaged snapshot the journal can stand in for, say what was
// dropped. Sequence numbers of dropped events are never given again (a floor record keeps the
// numbering going).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { HomePaths } from '../config/paths.js';
import { fsyncDir, writeFileDurably } from './durable-file.js';
import {
  type CoveredDamage,
  damagedSnapshotFix,
  findLostRecords,
  foundRecords,
  frameRecord,
  type JournalRecord,
  listSegments,
  listSnapshots,
  lostAfter,
  MARK_UNREADABLE_FIX,
  newestSegmentMark,
  readRecordAt,
  rebuildSource,
  SEQ_FLOOR_OP,
  scanJournal,
  segmentName,
  snapshotNumber,
  snapshotRebuild,
  writeNewestSegmentMark,
} from './journal.js';
import { findDamagedPart, openSnapshot } from './snapshot-file.js';

export const journalDirOf = (paths: HomePaths) => path.join(paths.store, 'wal');

/**
 * The newest records are gone and how many cannot be known: numbering skips this far past the last
 * number left. A segment holds about 32 MB, under a million events; this is far above what lost
 * segments can have used, and a 2^53 number space leaves room for millions of such repairs.
 */
export const LOST_SEQ_GAP = 1_000_000_000;

export interface JournalHealth {
  /** `lost`: the newest records are gone (a segment deleted, or lost in a restore). */
  /** `snapshot`: the newest snapshot, or a thread in it, cannot be read (`fix` says whether `errand repair` can rebuild it). */
  /** `covered-damage`: damage only in records the snapshot already holds: start skips it, nothing is lost. */
  status: 'ok' | 'empty' | 'torn' | 'damaged' | 'lost' | 'snapshot' | 'covered-damage';
  records: number;
  detail: string;
  file?: string;
  offset?: number;
  eventsAfter?: number;
  /** With `lost`: the last record left; what was recorded after it is gone. */
  lastRecord?: number;
  /** What to do, when it depends on what was found (a damaged snapshot, an unreadable newest-segment mark). */
  fix?: string;
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

/** The newest snapshot, when it (or, with `parts`, a thread in it) cannot be read. */
function damagedSnapshot(
  dir: string,
  parts: boolean,
): { file: string; detail: string; headReadable: boolean; offset?: number } | undefined {
  const name = listSnapshots(dir).at(-1);
  if (!name) return undefined;
  const file = path.join(dir, name);
  try {
    if (!parts) {
      openSnapshot(file).source?.close(); // as start opens it
      return undefined;
    }
    const bad = findDamagedPart(file);
    if (!bad) return undefined;
    return {
      file,
      headReadable: true,
      offset: bad.offset,
      detail: `the snapshot ${file} is damaged at byte ${bad.offset} (thread ${bad.part} in it: ${bad.problem}); that thread cannot be opened`,
    };
  } catch (err) {
    return { file, headReadable: false, detail: `the snapshot ${file} is damaged (${(err as Error).message})` };
  }
}

/** A damaged snapshot, and whether the journal can stand in for it. */
function snapshotHealth(dir: string, snap: { file: string; detail: string; offset?: number }): JournalHealth {
  const rebuild = snapshotRebuild(dir, path.basename(snap.file));
  return {
    status: 'snapshot',
    records: 0,
    file: snap.file,
    ...(snap.offset !== undefined ? { offset: snap.offset } : {}),
    detail: `${snap.detail}; ${rebuild.ok ? `the journal still holds every record it was made from (${rebuildSource(rebuild)}), so \`errand repair\` can rebuild it` : `\`errand repair\` cannot rebuild it: ${rebuild.missing}`}`,
    fix: rebuild.ok
      ? 'Stop Errand and run `errand repair`: it keeps a copy of the journal and removes the damaged snapshot; the next start rebuilds the state from the journal.'
      : 'Restore the store folder from a backup of your home if you have one: `errand repair` cannot rebuild this snapshot.',
  };
}

/** Skipped damage in records the snapshot holds, for people. */
const coveredDetail = (list: CoveredDamage[], snapshotN: number) =>
  `${list.map((c) => `${c.file} is damaged at byte ${c.offset} (${c.problem}; ${c.bytes} bytes)`).join('; ')}, ` +
  `in records the snapshot already holds (up to record ${snapshotN}): nothing is lost, start skips ${list.length > 1 ? 'them' : 'it'} and keeps every record after`;

/**
 * Whether the journal is whole. `parts`: also read every thread in the newest snapshot and check
 * it against its checksum (start reads them only when used), streamed so memory stays flat.
 */
export function inspectJournal(dir: string, opts: { parts?: boolean } = {}): JournalHealth {
  if (!listSegments(dir).length && !listSnapshots(dir).length && 'absent' in newestSegmentMark(dir))
    return { status: 'empty', records: 0, detail: 'no journal yet' };
  // The snapshot first: a running daemon drops segments only after writing a newer snapshot.
  const snap = damagedSnapshot(dir, opts.parts !== false);
  let partDamage: JournalHealth | undefined;
  if (snap) {
    const health = snapshotHealth(dir, snap);
    if (!snap.headReadable) return health;
    partDamage = health;
  }
  const snapshot = newestSnapshot(dir);
  const scan = scanJournal(dir, Number.NEGATIVE_INFINITY, snapshot.n);
  if (scan.damaged) {
    const d = scan.damaged;
    return {
      status: 'damaged',
      records: scan.records.length,
      file: d.file,
      offset: d.offset,
      eventsAfter: d.eventsAfter,
      detail:
        `${d.file} is damaged at byte ${d.offset} (${d.problem}); ${d.eventsAfter} event(s) in valid records follow it` +
        (partDamage ? `. Also, ${partDamage.detail}` : ''),
    };
  }
  const lost = findLostRecords(dir, foundRecords(scan), snapshot);
  if (lost)
    return {
      status: 'lost',
      records: scan.records.length,
      file: lost.file,
      lastRecord: lost.lastRecord,
      detail: `${lost.problem}: what was recorded ${lostAfter(lost)} ${lost.uncertain ? 'may be' : 'is'} gone${partDamage ? `. Also, ${partDamage.detail}` : ''}`,
      ...(lost.uncertain ? { fix: MARK_UNREADABLE_FIX } : {}),
    };
  if (partDamage) return { ...partDamage, records: scan.records.length };
  if (scan.coveredDamage) {
    const c = scan.coveredDamage[0];
    return {
      status: 'covered-damage',
      records: scan.records.length,
      file: c.file,
      offset: c.offset,
      detail: coveredDetail(scan.coveredDamage, snapshot.n),
    };
  }
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
  /** The damage is of a kind repair cannot fix (a damaged snapshot the journal cannot stand in for): the message says what to do. */
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
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const backup = path.join(paths.backups, `journal-before-repair-${stamp}`);
  let copied = false;
  const keepCopy = async () => {
    if (copied) return;
    await fsp.mkdir(paths.backups, { recursive: true, mode: 0o700 });
    await fsp.cp(dir, backup, { recursive: true });
    copied = true;
  };
  const done: string[] = [];
  // A damaged snapshot first. It is a cache when the journal still holds every record it was made
  // from: then it goes (its copy in the backup) and the next start rebuilds the state from them.
  const snap = damagedSnapshot(dir, true);
  let cannotRebuild: string | undefined;
  if (snap) {
    const rebuild = snapshotRebuild(dir, path.basename(snap.file));
    if (rebuild.ok) {
      await keepCopy();
      await fsp.rm(snap.file);
      await fsyncDir(dir);
      done.push(
        `Removed the damaged snapshot ${path.basename(snap.file)} (${snap.detail}). The journal holds every record it was made from (${rebuildSource(rebuild)}): the next start rebuilds the state from them, and nothing is lost.`,
      );
    } else {
      cannotRebuild = `Not repaired: ${snap.detail}. ${damagedSnapshotFix(rebuild)}`;
      // A damaged thread in it must not stop repairing the journal's own damage; an unreadable head does.
      if (!snap.headReadable) return { repaired: false, cannot: true, message: cannotRebuild };
    }
  }
  const health = inspectJournal(dir, { parts: false });
  if (health.status !== 'damaged' && health.status !== 'lost' && health.status !== 'covered-damage') {
    if (cannotRebuild) return { repaired: false, cannot: true, message: cannotRebuild };
    if (done.length)
      return {
        repaired: true,
        backup,
        message: [`Kept a copy of the journal in ${backup}.`, ...done, 'Start Errand again.'].join(' '),
      };
    return {
      repaired: false,
      message:
        health.status === 'torn'
          ? `Nothing to repair: ${health.detail}.`
          : `Nothing to repair: the journal is whole (${health.detail}).`,
    };
  }
  await keepCopy();

  const snapshot = newestSnapshot(dir);
  const snapN = snapshot.n;
  const scan = scanJournal(dir, Number.NEGATIVE_INFINITY, snapN);
  const covered = scan.coveredDamage ?? [];
  const names = listSegments(dir);
  const dropped = scan.damaged ? recordsAfter(dir, scan.damaged.file, scan.damaged.offset) : [];
  // Records after a damaged one are there, only cut off: not lost.
  const lost = findLostRecords(dir, [...foundRecords(scan), ...dropped], snapshot);
  let floorFile: string;
  if (scan.damaged) {
    // Cut at the damaged record; later segments go (their copy is in the backup).
    const { file, offset } = scan.damaged;
    fs.truncateSync(file, offset);
    for (const name of names.slice(names.indexOf(path.basename(file)) + 1))
      fs.rmSync(path.join(dir, name), { force: true });
    floorFile = file;
  } else {
    // Only the newest records are gone, or damage the snapshot covers: go on from what is left. A
    // torn tail was never acknowledged (its copy is in the backup); cut now, or it would sit before
    // the floor record.
    if (scan.torn) fs.truncateSync(scan.torn.file, scan.torn.offset);
    const newest = names.at(-1);
    floorFile = path.join(dir, newest ?? segmentName(snapN + 1));
  }
  // Damage in records the snapshot holds: only its bytes go, never the records after it.
  for (const file of new Set(covered.map((c) => c.file))) {
    const buf = fs.readFileSync(file);
    const pieces: Buffer[] = [];
    let from = 0;
    for (const c of covered.filter((c) => c.file === file).sort((a, b) => a.offset - b.offset)) {
      pieces.push(buf.subarray(from, c.offset));
      from = c.offset + c.bytes;
    }
    pieces.push(buf.subarray(Math.min(from, buf.length)));
    await writeFileDurably(file, Buffer.concat(pieces), false);
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
  // The replay window is read by position: it must not span the events of removed covered records
  // (a phone further back gets a fresh copy; the snapshot holds their state).
  let gapFrom: number | undefined;
  if (covered.length) {
    gapFrom = 1;
    for (const r of scan.records.slice(0, covered[0].recordsBefore))
      for (const e of r.events) gapFrom = Math.max(gapFrom, e.seq + 1);
  }
  const droppedFrom = gapFrom ?? (maxSeq > keptSeq ? keptSeq + 1 : undefined);

  // Keep event numbering above everything that was ever written.
  const floor: JournalRecord = {
    n: Math.max(lastGood?.n ?? 0, snapN) + 1,
    at: Date.now(),
    ops: [{ t: SEQ_FLOOR_OP, d: { seq: maxSeq, ...(droppedFrom !== undefined ? { droppedFrom } : {}) } }],
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

  const parts = [`Kept a copy of the journal in ${backup}.`, ...done];
  if (scan.damaged)
    parts.push(
      `Cut ${scan.damaged.file} at byte ${scan.damaged.offset}, after the last good record` +
        `${lastGood ? ` (number ${lastGood.n})` : ''}. Dropped ${dropped.length} record(s) holding ${droppedEvents} event(s) after it.`,
    );
  if (covered.length)
    parts.push(
      `Removed damaged bytes from records the snapshot already holds (${covered.map((c) => `${c.bytes} at byte ${c.offset} of ${c.file}`).join('; ')}): nothing acknowledged was lost, and every record after them was kept.`,
    );
  if (lost?.uncertain) {
    parts.push(
      `The journal's newest-segment mark could not be read (${lost.problem}): whether anything was recorded ${lostAfter(lost)} cannot be known, so Errand goes on from the segments there and wrote the mark again.` +
        ` Event numbers go on from ${maxSeq + 1}, so none is given twice.`,
    );
  } else if (lost) {
    parts.push(
      `The journal's newest records were gone (${lost.problem}): what was recorded ${lostAfter(lost)} is lost and cannot be counted; Errand goes on from what is left.` +
        ` Event numbers go on from ${maxSeq + 1}, so none is given twice. If the missing file turns up, it cannot be added back; keep it for reference.`,
    );
  }
  parts.push(
    'Phones that saw dropped events get a fresh copy of the thread list when they reconnect. Start Errand again.',
  );
  if (cannotRebuild) parts.push(cannotRebuild);
  return {
    repaired: true,
    backup,
    droppedRecords: dropped.length,
    droppedEvents,
    ...(lost ? { lost: lost.problem } : {}),
    message: parts.join(' '),
  };
}
