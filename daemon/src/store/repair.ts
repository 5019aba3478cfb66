// Look at the journal without starting the daemon (`errand doctor`), and repair a damaged one
// (`errand repair`): keep a copy, cut at the last good record, say what was dropped. Sequence
// numbers of dropped events are never given again (a floor record keeps the numbering going).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { HomePaths } from '../config/paths.js';
import { fsyncDir } from './durable-file.js';
import {
  frameRecord,
  type JournalRecord,
  listSegments,
  listSnapshots,
  readRecordAt,
  SEQ_FLOOR_OP,
  scanJournal,
} from './journal.js';
import { openSnapshot } from './snapshot-file.js';

export const journalDirOf = (paths: HomePaths) => path.join(paths.store, 'wal');

export interface JournalHealth {
  status: 'ok' | 'empty' | 'torn' | 'damaged';
  records: number;
  detail: string;
  file?: string;
  offset?: number;
  eventsAfter?: number;
}

export function inspectJournal(dir: string): JournalHealth {
  if (!listSegments(dir).length && !listSnapshots(dir).length)
    return { status: 'empty', records: 0, detail: 'no journal yet' };
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
  if (health.status !== 'damaged')
    return {
      repaired: false,
      message:
        health.status === 'torn'
          ? `Nothing to repair: ${health.detail}.`
          : `Nothing to repair: the journal is whole (${health.detail}).`,
    };
  const file = health.file!;
  const offset = health.offset!;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const backup = path.join(paths.backups, `journal-before-repair-${stamp}`);
  await fsp.mkdir(paths.backups, { recursive: true, mode: 0o700 });
  await fsp.cp(dir, backup, { recursive: true });

  const scan = scanJournal(dir);
  const dropped = recordsAfter(dir, file, offset);
  const droppedEvents = dropped.reduce((n, r) => n + r.events.length, 0);
  const lastGood = scan.records.at(-1);
  const snaps = listSnapshots(dir);
  const snapN = Math.max(0, ...snaps.map((s) => Number(s.slice(9, 25))));
  let snapSeq = 0;
  if (snaps.length) {
    try {
      const snap = openSnapshot(path.join(dir, snaps.at(-1)!)); // its head only
      snap.source?.close();
      snapSeq = snap.head.seq;
    } catch {
      /* a damaged snapshot: the next start says so */
    }
  }
  // Everything numbered after what the kept records and the snapshot hold is gone (the damaged
  // record's events too, though they cannot be counted).
  let keptSeq = snapSeq;
  for (const r of scan.records) for (const e of r.events) keptSeq = Math.max(keptSeq, e.seq);
  let maxSeq = keptSeq;
  for (const r of dropped) for (const e of r.events) maxSeq = Math.max(maxSeq, e.seq);

  // Cut at the damaged record; later segments go (their copy is in the backup).
  const names = listSegments(dir);
  const at = names.indexOf(path.basename(file));
  fs.truncateSync(file, offset);
  for (const name of names.slice(at + 1)) fs.rmSync(path.join(dir, name), { force: true });
  // Keep event numbering above everything that was ever written.
  const floor: JournalRecord = {
    n: Math.max(lastGood?.n ?? 0, snapN) + 1,
    at: Date.now(),
    ops: [{ t: SEQ_FLOOR_OP, d: { seq: maxSeq, ...(maxSeq > keptSeq ? { droppedFrom: keptSeq + 1 } : {}) } }],
    events: [],
  };
  const fd = fs.openSync(file, 'a', 0o600);
  try {
    fs.writeSync(fd, frameRecord(floor));
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  await fsyncDir(dir);
  return {
    repaired: true,
    backup,
    droppedRecords: dropped.length,
    droppedEvents,
    message:
      `Kept a copy of the journal in ${backup}. Cut ${file} at byte ${offset}, after the last good record` +
      `${lastGood ? ` (number ${lastGood.n})` : ''}. Dropped ${dropped.length} record(s) holding ${droppedEvents} event(s) after it; ` +
      'phones that saw those events get a fresh copy of the thread list when they reconnect. Start Errand again.',
  };
}
