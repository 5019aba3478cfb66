// Who last wrote each memory note: a paired device (memory.put), the CLI on the computer, or a task
// (the memory tool). Without it a note the model saved looked exactly like one the person saved, and
// text injected into a clean task could sit in memory unseen.
//
// One small JSON file, <home>/store/memory-authors.json, replaced durably (writeFileDurably) under the
// memory folder's lock right after the note itself. Not the store's journal: the record is a label
// beside the note, not state that must agree with it. Each record keeps the note's file identity as
// Errand left it (device, inode, size, change and modification times); a note that no longer matches
// was changed by someone else (an editor, a shell, an undo putting an older version back) and shows
// as "changed outside Errand". A crash between the note and its record shows the same: never a wrong
// author. An unreadable record reads as empty (every note "unknown") and is replaced by the next write.
import type fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { MemoryWriter } from '../../../../shared/src/index.js';
import { writeFileDurably } from '../../util/durable-file.js';
import { MEMORY_PREFIX } from './paths.js';

/** Who wrote a note, as recorded (threads and devices are looked up by id when shown). */
export type NoteWriter =
  | { kind: 'task'; taskId: string; threadId: string }
  | { kind: 'device'; deviceId: string; deviceName: string }
  | { kind: 'computer' };

const Writer = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('task'), taskId: z.string(), threadId: z.string() }),
  z.object({ kind: z.literal('device'), deviceId: z.string(), deviceName: z.string() }),
  z.object({ kind: z.literal('computer') }),
]);
const NoteRecord = z.object({ by: Writer, stamp: z.string() });
const RecordFile = z.object({ v: z.literal(1), notes: z.record(z.string(), NoteRecord) });
type Records = z.infer<typeof RecordFile>['notes'];

/**
 * A file's identity as left by its last write. The change time is in it: nothing but the system sets
 * it, so an edit that keeps the size and puts the old modification time back still shows.
 */
export function stampOf(st: fs.BigIntStats): string {
  return [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join(':');
}

/** Same file, same content as far as the file system says (a rename changes only the change time). */
const sameFileAs = (a: string, b: string) => a.split(':').slice(0, 4).join() === b.split(':').slice(0, 4).join();

async function stampAt(real: string): Promise<string | undefined> {
  const st = await fsp.lstat(real, { bigint: true }).catch(() => undefined);
  return st?.isFile() ? stampOf(st) : undefined;
}

export class MemoryAuthors {
  /** The memory folder (home/memory); the record lives in the store folder beside it. */
  constructor(
    private readonly root: string,
    readonly file = path.join(path.dirname(root), 'store', 'memory-authors.json'),
  ) {}

  private async load(): Promise<Records> {
    try {
      return RecordFile.parse(JSON.parse(await fsp.readFile(this.file, 'utf8'))).notes;
    } catch {
      return {};
    }
  }

  /** Records of notes that are gone are dropped, so the file stays as small as memory. */
  private async save(notes: Records): Promise<void> {
    const kept: Records = {};
    for (const [name, rec] of Object.entries(notes)) if (await stampAt(this.real(name)).then(Boolean)) kept[name] = rec;
    await fsp.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await writeFileDurably(this.file, JSON.stringify({ v: 1, notes: kept }), false);
  }

  private real(name: string): string {
    return path.join(this.root, ...name.slice(MEMORY_PREFIX.length + 1).split('/'));
  }

  /** After `by` wrote the note `name` (/memories/…); call under the memory folder's lock. */
  async wrote(name: string, by: NoteWriter): Promise<void> {
    const stamp = await stampAt(this.real(name));
    const notes = await this.load();
    if (stamp) notes[name] = { by, stamp };
    else delete notes[name];
    await this.save(notes);
  }

  /**
   * After `by` renamed a note, whose stamp was `before`: the new name is its doing. Under the memory
   * folder's lock; if the file there is no longer the one moved, its record is left to show so.
   */
  async moved(from: string, to: string, before: string | undefined, by: NoteWriter): Promise<void> {
    const stamp = await stampAt(this.real(to));
    const notes = await this.load();
    delete notes[from];
    if (stamp && before && sameFileAs(stamp, before)) notes[to] = { by, stamp };
    await this.save(notes);
  }

  /** The stamp of a note now, to hand to moved(). */
  stamp(name: string): Promise<string | undefined> {
    return stampAt(this.real(name));
  }

  /**
   * Who wrote each note, by its stamp now (`stamps`: /memories name → stamp). `show` turns a record
   * into what clients see (it looks up thread titles and device names).
   */
  async writers(
    stamps: Map<string, string>,
    show: (by: NoteWriter) => MemoryWriter,
  ): Promise<Map<string, MemoryWriter>> {
    const notes = await this.load();
    const out = new Map<string, MemoryWriter>();
    for (const [name, stamp] of stamps) {
      const rec = notes[name];
      out.set(name, !rec ? { kind: 'unknown' } : rec.stamp === stamp ? show(rec.by) : { kind: 'outside' });
    }
    return out;
  }
}
