// The journal's files on disk: segments of records framed as [u32 length][u32 crc32][JSON payload],
// their names, and the scan that reads them back (stopping at a torn tail or damage; see docs/store.md).
import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { ServerEvent } from '../../../shared/src/index.js';

/** One typed change; `t` names the fold that applies it. */
export interface Op {
  t: string;
  d: unknown;
}

export interface LoggedEvent {
  seq: number;
  at: number;
  event: ServerEvent;
}

/** A committed record: its number, its ops and its events (with their sequence numbers). */
export interface JournalRecord {
  n: number;
  at: number;
  ops: Op[];
  events: LoggedEvent[];
}

export const HEADER = 8;
export const MAX_RECORD = 256 * 1024 * 1024;
export const SEGMENT = /^seg-(\d{16})\.wal$/;
export const SNAPSHOT = /^snapshot-(\d{16})\.json$/;
export const pad = (n: number) => String(n).padStart(16, '0');
export const segmentName = (firstN: number) => `seg-${pad(firstN)}.wal`;
/** The record number a snapshot file holds the state as of (it is in its name). */
export const snapshotNumber = (name: string) => Number(SNAPSHOT.exec(name)?.[1] ?? 0);

export interface ScanResult {
  records: JournalRecord[];
  /** Bytes of the records numbered above n. */
  bytesAfter(n: number): number;
  /** Set when the last segment ends in a cut record. */
  torn?: { file: string; offset: number; bytes: number };
  damaged?: { file: string; offset: number; problem: string; eventsAfter: number };
  /**
   * Damaged bytes in records the snapshot already holds, skipped: the next valid record was found
   * and is numbered at most one past the snapshot, so no state is missing (only the skipped
   * records' events, which the replay window then leaves out).
   */
  coveredDamage?: CoveredDamage[];
}

export interface CoveredDamage {
  file: string;
  offset: number;
  /** How many bytes were skipped (up to the next valid record, or the end of the segment). */
  bytes: number;
  problem: string;
  /** The number of the first record after them. */
  nextN: number;
  /** How many records the scan had found before them (the replay window starts after them). */
  recordsBefore: number;
}

/** The records a scan found, with the numbers of covered ones it skipped (they were there: not lost). */
export function foundRecords(scan: ScanResult): JournalRecord[] {
  if (!scan.coveredDamage) return scan.records;
  return [...scan.records, ...scan.coveredDamage.map((c) => ({ n: c.nextN - 1, at: 0, ops: [], events: [] }))];
}

/** Frame one record: header (length, CRC-32) and payload. */
export function frameRecord(rec: JournalRecord): Buffer {
  const body = Buffer.from(JSON.stringify(rec), 'utf8');
  const head = Buffer.alloc(HEADER);
  head.writeUInt32LE(body.length, 0);
  head.writeUInt32LE(crc32(body), 4);
  return Buffer.concat([head, body]);
}

/** A record checked (checksum) but not parsed: only its number is known until `parseLazy`. */
export interface LazyRecord extends JournalRecord {
  /** Where its payload is: read again only if the replay window needs its events. */
  at_?: { file: string; offset: number; length: number };
  body?: Buffer;
  /** It holds no events (most thread changes): the replay window skips it unread. */
  noEvents?: boolean;
}

const N_PREFIX = /^\{"n":(\d+),/;
/** How a record with no events ends (records are written as {n, at, ops, events}). */
const NO_EVENTS = Buffer.from(',"events":[]}', 'latin1');

export function readRecordAt(
  buf: Buffer,
  off: number,
  parseAbove = Number.NEGATIVE_INFINITY,
): { rec: JournalRecord; end: number } | string {
  if (off + HEADER > buf.length) return 'record header is cut off';
  const len = buf.readUInt32LE(off);
  const crc = buf.readUInt32LE(off + 4);
  if (len === 0 || len > MAX_RECORD) return 'record length is invalid';
  if (off + HEADER + len > buf.length) return 'record is cut off';
  const body = buf.subarray(off + HEADER, off + HEADER + len);
  if (crc32(body) !== crc) return 'checksum does not match';
  // Records a snapshot covers are parsed only if the replay window needs their events.
  const m = N_PREFIX.exec(body.subarray(0, 32).toString('latin1'));
  if (m && Number(m[1]) <= parseAbove) {
    const noEvents = body.subarray(-NO_EVENTS.length).equals(NO_EVENTS);
    const lazy: LazyRecord = { n: Number(m[1]), at: 0, ops: [], events: [], body, noEvents };
    return { rec: lazy, end: off + HEADER + len };
  }
  try {
    const rec = JSON.parse(body.toString('utf8')) as JournalRecord;
    if (typeof rec.n !== 'number' || !Array.isArray(rec.ops)) return 'record has no number';
    rec.events ??= [];
    return { rec, end: off + HEADER + len };
  } catch {
    return 'record is not valid JSON';
  }
}

/** Parse a record left unparsed by the scan (`files` keeps the segments open between calls). */
export function parseLazy(rec: JournalRecord, files = new Map<string, number>()): JournalRecord {
  const lazy = rec as LazyRecord;
  let body = lazy.body;
  if (!body && lazy.at_) {
    body = Buffer.allocUnsafe(lazy.at_.length);
    let fd = files.get(lazy.at_.file);
    if (fd === undefined) {
      fd = fs.openSync(lazy.at_.file, 'r');
      files.set(lazy.at_.file, fd);
    }
    fs.readSync(fd, body, 0, body.length, lazy.at_.offset);
  }
  if (!body) return rec;
  const full = JSON.parse(body.toString('utf8')) as JournalRecord;
  full.events ??= [];
  return full;
}

const READ_CHUNK = 1024 * 1024;

/**
 * The first valid record after a bad one at `off`: where its length says it ends if that holds,
 * else the first place from which a whole record (header and checksum) reads. Only its number is read.
 */
function nextValidRecord(buf: Buffer, off: number): { offset: number; n: number } | undefined {
  const len = off + HEADER <= buf.length ? buf.readUInt32LE(off) : 0;
  const hinted = len > 0 && len <= MAX_RECORD ? off + HEADER + len : -1;
  if (hinted > off) {
    const r = readRecordAt(buf, hinted, Number.POSITIVE_INFINITY);
    if (typeof r !== 'string') return { offset: hinted, n: r.rec.n };
  }
  for (let at = off + 1; at + HEADER <= buf.length; at++) {
    const r = readRecordAt(buf, at, Number.POSITIVE_INFINITY);
    if (typeof r !== 'string') return { offset: at, n: r.rec.n };
  }
  return undefined;
}

/**
 * Read every segment of a journal folder, in order; stops at the first bad record, unless it lies
 * in what the snapshot holding records up to `snapshotN` already has (see ScanResult.coveredDamage).
 * Records numbered up to `parseAbove` are checked but left unparsed (see parseLazy). Segments are
 * read through one reused buffer: large fresh allocations (a whole segment) cost more than the reading.
 */
export function scanJournal(
  dir: string,
  parseAbove = Number.NEGATIVE_INFINITY,
  snapshotN = Number.isFinite(parseAbove) ? parseAbove : 0,
): ScanResult {
  const names = listSegments(dir);
  const records: JournalRecord[] = [];
  const coveredDamage: CoveredDamage[] = [];
  let lastN = 0;
  const sizes: number[] = [];
  const bytesAfter = (n: number) => records.reduce((sum, r, i) => (r.n > n ? sum + sizes[i] : sum), 0);
  let buf = Buffer.allocUnsafe(READ_CHUNK);
  for (let i = 0; i < names.length; i++) {
    const file = path.join(dir, names[i]);
    // A segment's name is the number of its first record: the one a damaged first record has.
    lastN = Math.max(lastN, Number(SEGMENT.exec(names[i])![1]) - 1);
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      let bufStart = 0; // file offset of buf[0]
      let filled = 0;
      let off = 0; // file offset of the next record
      // Make buf hold the file's bytes [off, off + need) (or up to the end of the file).
      const ensure = (need: number) => {
        if (off - bufStart + need <= filled) return;
        // Nothing to keep when `off` jumped past what is in buf (over damaged bytes).
        const keep = Math.max(0, filled - (off - bufStart));
        if (need > buf.length) {
          const bigger = Buffer.allocUnsafe(Math.max(need, buf.length * 2));
          if (keep) buf.copy(bigger, 0, off - bufStart, filled);
          buf = bigger;
        } else if (keep) buf.copy(buf, 0, off - bufStart, filled);
        bufStart = off;
        filled = keep;
        while (filled < buf.length && bufStart + filled < size) {
          const n = fs.readSync(fd, buf, filled, buf.length - filled, bufStart + filled);
          if (n <= 0) break;
          filled += n;
        }
      };
      while (off < size) {
        ensure(HEADER);
        const len = filled - (off - bufStart) >= HEADER ? buf.readUInt32LE(off - bufStart) : 0;
        if (len > 0 && len <= MAX_RECORD) ensure(HEADER + len);
        const r = readRecordAt(buf.subarray(0, filled), off - bufStart, parseAbove);
        if (typeof r === 'string') {
          const whole = fs.readFileSync(file);
          // Damage in records the snapshot holds costs no state when the records after it can
          // still be found: skip it, never what follows (that may hold acknowledged changes).
          const next = nextValidRecord(whole, off);
          // With nothing after it: one whole record by its length (a flipped byte, not a cut) is the
          // next number, lastN + 1.
          const len = off + HEADER <= size ? whole.readUInt32LE(off) : 0;
          const lastWhole = len > 0 && off + HEADER + len === size ? lastN + 2 : undefined;
          // Its length itself damaged, nothing valid after it, and the snapshot holds the record
          // after the last good one: whatever these bytes were, the snapshot has them (a record is
          // snapshotted only once durable, so this is no cut-off append). Not "lost records".
          const heldTail = i === names.length - 1 && lastN + 1 <= snapshotN ? lastN + 2 : undefined;
          const nextN =
            next?.n ?? (i + 1 < names.length ? Number(SEGMENT.exec(names[i + 1])![1]) : (lastWhole ?? heldTail));
          if (nextN !== undefined && nextN > lastN && nextN <= snapshotN + 1) {
            const end = next?.offset ?? size;
            coveredDamage.push({
              file,
              offset: off,
              bytes: end - off,
              problem: r,
              nextN,
              recordsBefore: records.length,
            });
            if (!next) break; // the rest of this segment is damaged: go on with the next one
            off = end;
            continue;
          }
          // Valid records after the bad one (here or in a later segment) mean damage, not a torn tail.
          const after = validAfter(whole, off + 1, names.slice(i + 1), dir);
          const covered = coveredDamage.length ? { coveredDamage } : {};
          if (after.records === 0 && i === names.length - 1)
            return { records, bytesAfter, torn: { file, offset: off, bytes: size - off }, ...covered };
          return {
            records,
            bytesAfter,
            damaged: { file, offset: off, problem: r, eventsAfter: after.events },
            ...covered,
          };
        }
        const length = r.end - (off - bufStart);
        const lazy = r.rec as LazyRecord;
        if (lazy.body) {
          // The buffer is reused: a covered record keeps where it is, not its bytes.
          lazy.body = undefined;
          lazy.at_ = { file, offset: off + HEADER, length: length - HEADER };
        }
        records.push(r.rec);
        sizes.push(length);
        lastN = r.rec.n;
        off += length;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return { records, bytesAfter, ...(coveredDamage.length ? { coveredDamage } : {}) };
}

function validAfter(buf: Buffer, from: number, later: string[], dir: string): { records: number; events: number } {
  let records = 0;
  let events = 0;
  const count = (b: Buffer, start: number) => {
    let off = start;
    while (off + HEADER <= b.length) {
      const r = readRecordAt(b, off);
      if (typeof r === 'string') {
        off++;
        continue;
      }
      records++;
      events += r.rec.events.length;
      off = r.end;
    }
  };
  count(buf, from);
  for (const name of later) count(fs.readFileSync(path.join(dir, name)), 0);
  return { records, events };
}

/** The names in `dir` that `pattern` matches, in order (none when it cannot be read). */
function namesMatching(dir: string, pattern: RegExp): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((f) => pattern.test(f)).sort();
}

export const listSegments = (dir: string): string[] => namesMatching(dir, SEGMENT);

export const listSnapshots = (dir: string): string[] => namesMatching(dir, SNAPSHOT);
