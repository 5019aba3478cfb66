// Snapshot files. Format 2: a head line (JSON: the folds' small state, the number of parts per fold,
// each part's byte length and checksum), then each part on a line of its own. Parts (one thread
// each) stay on disk until used: start-up reads the head only, a part is read when its thread is
// first used, and a part never used is copied as bytes into the next snapshot. Format 1 (one JSON
// document) is still read. See docs/store.md.
import fs from 'node:fs';
import { crc32 } from 'node:zlib';
import { CommandError } from '../util/command-error.js';
import { writeFileDurably } from './durable-file.js';

/**
 * What to do about a damaged snapshot, said where whether the journal can stand in for it is not
 * worked out (a thread's part read while running). Start and `errand doctor` say which case it is.
 */
export const SNAPSHOT_FIX =
  'Stop Errand and run `errand repair`: when the journal still holds every record the snapshot was made from, it keeps a copy and rebuilds the state from the journal; when not, it says what is missing, and the fix is to restore the store folder from a backup of your home.';

/**
 * A part (one thread) cannot be read back. A CommandError, so the phone is told what is wrong and
 * what to do instead of "internal error".
 */
export class SnapshotPartDamagedError extends CommandError {
  constructor(
    readonly file: string,
    readonly offset: number,
    cold: boolean,
  ) {
    super(
      'unavailable',
      cold
        ? `A thread Errand moved out of memory could not be read back (its copy in ${file} is damaged at byte ${offset}). Restart Errand: it reads the thread again from its journal.`
        : `The snapshot ${file} is damaged at byte ${offset}: this thread cannot be read from it. ${SNAPSHOT_FIX} \`errand doctor\` says the same.`,
    );
  }
}

export interface SnapshotHead {
  v: number;
  n: number;
  seq: number;
  at?: number;
  folds: Record<string, unknown>;
  /** Parts per fold, in the order they follow the head (format 2). */
  parts?: Record<string, number>;
  /** Byte length and CRC-32 of each part, in order (format 2). */
  partBytes?: number[];
  partCrcs?: number[];
  dropped?: Array<{ from: number; to: number }>;
}

/** An open snapshot file that parts are read from; kept open while any part may still be read. */
export class SnapshotSource {
  constructor(
    readonly file: string,
    readonly fd: number,
    /** The daemon's own anonymous file of threads moved out of memory (cold-parts.ts), not a snapshot. */
    readonly cold = false,
  ) {}
  close(): void {
    fs.closeSync(this.fd);
  }
}

/** One part of a snapshot, on disk: read when used. */
export class SnapshotPart {
  constructor(
    private source: SnapshotSource,
    private offset: number,
    readonly length: number,
    readonly crc: number,
  ) {}

  bytes(): Buffer {
    const buf = Buffer.allocUnsafe(this.length);
    let got = 0;
    while (got < this.length) {
      const n = fs.readSync(this.source.fd, buf, got, this.length - got, this.offset + got);
      if (n <= 0) break;
      got += n;
    }
    if (got !== this.length || crc32(buf) !== this.crc)
      throw new SnapshotPartDamagedError(this.source.file, this.offset, this.source.cold);
    return buf;
  }

  read(): string {
    return this.bytes().toString('utf8');
  }

  /** Where it starts in its file. */
  get start(): number {
    return this.offset;
  }

  /** The same, read without blocking (for copying into a new snapshot). */
  async bytesAsync(): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(this.length);
    const { bytesRead } = await new Promise<{ bytesRead: number }>((resolve, reject) =>
      fs.read(this.source.fd, buf, 0, this.length, this.offset, (err, bytesRead) =>
        err ? reject(err) : resolve({ bytesRead }),
      ),
    );
    if (bytesRead !== this.length || crc32(buf) !== this.crc) return this.bytes(); // short read or damage: the checked path
    return buf;
  }

  isIn(source: SnapshotSource): boolean {
    return this.source === source;
  }

  /** After a new snapshot was written: the same bytes, now in that file. */
  moveTo(source: SnapshotSource, offset: number): void {
    this.source = source;
    this.offset = offset;
  }
}

const NEWLINE = 0x0a;
const HEAD_CHUNK = 64 * 1024;

/** Open a snapshot: its head, and its parts (format 2) left on disk. */
export function openSnapshot(file: string): {
  head: SnapshotHead;
  parts: Map<string, SnapshotPart[]>;
  source?: SnapshotSource;
} {
  const fd = fs.openSync(file, 'r');
  let keepOpen = false;
  try {
    const size = fs.fstatSync(fd).size;
    // Read until the end of the head line (or of the file, for format 1).
    let buf = Buffer.allocUnsafe(Math.min(HEAD_CHUNK, Math.max(size, 1)));
    let filled = 0;
    let end = -1;
    while (filled < size) {
      if (filled === buf.length) {
        const bigger = Buffer.allocUnsafe(Math.min(size, buf.length * 2));
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const n = fs.readSync(fd, buf, filled, buf.length - filled, filled);
      if (n <= 0) break;
      end = buf.indexOf(NEWLINE, filled);
      filled += n;
      if (end >= 0 && end < filled) break;
      end = -1;
    }
    const head = JSON.parse(buf.toString('utf8', 0, end < 0 ? filled : end)) as SnapshotHead;
    const parts = new Map<string, SnapshotPart[]>();
    if (!head.parts) return { head, parts }; // format 1
    if (end < 0) {
      // Format 2 with no parts at all (no threads yet): the head is the whole file.
      for (const [type, count] of Object.entries(head.parts)) {
        if (count !== 0) throw new Error(`the file ends before the parts of ${type}`);
        parts.set(type, []);
      }
      return { head, parts };
    }
    const source = new SnapshotSource(file, fd);
    const bytes = head.partBytes ?? [];
    const crcs = head.partCrcs ?? [];
    let offset = end + 1;
    let i = 0;
    for (const [type, count] of Object.entries(head.parts)) {
      const list: SnapshotPart[] = [];
      for (let k = 0; k < count; k++, i++) {
        if (bytes[i] === undefined || crcs[i] === undefined) throw new Error(`part ${i + 1} has no length`);
        list.push(new SnapshotPart(source, offset, bytes[i], crcs[i]));
        offset += bytes[i] + 1;
      }
      parts.set(type, list);
    }
    if (offset !== size + 1 && offset !== size)
      throw new Error(`the file is ${size} bytes, its head describes ${offset - 1}`);
    keepOpen = true;
    return { head, parts, source };
  } finally {
    if (!keepOpen) fs.closeSync(fd);
  }
}

const CHECK_CHUNK = 1024 * 1024;

/**
 * Read every part of a snapshot and compare it with its length and checksum (`errand doctor`,
 * `errand repair --check`): start reads only the head, so a damaged part would otherwise show only
 * when its thread is used. Streamed through one buffer: memory stays flat whatever the size.
 * Returns where the first damaged part starts, or undefined when all are whole.
 */
export function findDamagedPart(file: string): { offset: number; part: number; problem: string } | undefined {
  const { parts, source } = openSnapshot(file);
  if (!source) return undefined; // format 1, or no parts: parsing the head checked it all
  try {
    const buf = Buffer.allocUnsafe(CHECK_CHUNK);
    const size = fs.fstatSync(source.fd).size;
    let i = 0;
    for (const part of [...parts.values()].flat()) {
      i++;
      const offset = part.start;
      let crc = 0;
      let done = 0;
      while (done < part.length) {
        const n = fs.readSync(source.fd, buf, 0, Math.min(buf.length, part.length - done), offset + done);
        if (n <= 0) return { offset, part: i, problem: 'the file ends inside it' };
        crc = crc32(buf.subarray(0, n), crc);
        done += n;
      }
      if (crc !== part.crc) return { offset, part: i, problem: 'checksum does not match' };
      if (offset + part.length < size && fs.readSync(source.fd, buf, 0, 1, offset + part.length) === 1)
        if (buf[0] !== NEWLINE) return { offset, part: i, problem: 'no line end after it' };
    }
    return undefined;
  } finally {
    source.close();
  }
}

/**
 * Write a snapshot durably: `head` (without the part lengths, added here) and the parts in order.
 * Text parts were made when the snapshot was taken; parts still on disk are copied as bytes, then
 * moved to the new file. The copying is asynchronous, a slice at a time, so a snapshot never stalls
 * the daemon for long. Returns the new file's source (the caller closes the old one).
 */
export async function writeSnapshot(
  file: string,
  head: SnapshotHead,
  parts: Array<string | SnapshotPart>,
  crashMidway?: (partial: Buffer) => never,
): Promise<SnapshotSource | undefined> {
  if (parts.length === 0) {
    const text = JSON.stringify(head);
    if (crashMidway) crashMidway(Buffer.from(text.slice(0, text.length / 2)));
    await writeFileDurably(file, text, false);
    return undefined;
  }
  // Lengths and checksums go in the head: text parts are encoded now, parts on disk carry theirs.
  const texts = parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : undefined));
  const headLine = Buffer.from(
    `${JSON.stringify({
      ...head,
      partBytes: parts.map((p, i) => texts[i]?.length ?? (p as SnapshotPart).length),
      partCrcs: parts.map((p, i) => (texts[i] ? crc32(texts[i]) : (p as SnapshotPart).crc)),
    })}\n`,
  );
  const newline = Buffer.from([NEWLINE]);
  async function* chunks(): AsyncIterable<Buffer> {
    yield headLine;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      yield texts[i] ?? (await (p as SnapshotPart).bytesAsync());
      yield newline;
    }
  }
  if (crashMidway) {
    const partial: Buffer[] = [];
    let bytes = 0;
    for await (const c of chunks()) {
      partial.push(c);
      bytes += c.length;
      if (bytes > headLine.length * 2) break;
    }
    crashMidway(Buffer.concat(partial));
  }
  await writeFileDurably(file, chunks(), false);
  const source = new SnapshotSource(file, fs.openSync(file, 'r'));
  let offset = headLine.length;
  parts.forEach((p, i) => {
    const length = texts[i]?.length ?? (p as SnapshotPart).length;
    if (typeof p !== 'string') p.moveTo(source, offset);
    offset += length + 1;
  });
  return source;
}
