// The user's side of memory: list, read, replace, delete and clear the memory files, and keep the
// personal instructions file. Same path rules as the memory tool (paths.ts); writes and deletes are
// durable before the reply, and made under the memory folder's lock like the model's.
//
// A person's delete is a delete (not the trash): "forget this" means gone. It takes one note, or an
// empty folder: a folder that still holds notes is refused, saying so, so that a delete never wipes
// more than the person picked. All of memory goes only with clear, which the app confirms first.
//
// Exactly once: the reply to a phone's command is remembered in the command's journal record, after
// the handler ran. A crash between the delete and that record makes the phone send the command
// again, and the handler runs again. A delete answers as the first did because it is idempotent (a
// note already gone is deleted). A clear notes its command id and count durably before it deletes
// (clearNote): run again for that id it finishes the clear and gives the same count.
import fsp from 'node:fs/promises';
import path from 'node:path';
import {
  MAX_INSTRUCTIONS,
  MAX_MEMORY_LISTED,
  type MemoryEntry,
  type MemoryNote,
  type MemoryWriter,
} from '../../../../shared/src/index.js';
import { CommandError } from '../../util/command-error.js';
import { fsyncDir } from '../../util/durable-file.js';
import { writeAtomic } from '../journal.js';
import { ToolError } from '../util.js';
import { MemoryAuthors, type NoteWriter } from './authors.js';
import { byPath, memoryBoundBreach, memoryFiles, withMemoryLock } from './bounds.js';
import {
  MAX_MEMORY_FILE,
  MEMORY_PREFIX,
  type MemoryPath,
  memoryPath,
  refuseInvisibleName,
  refuseLinks,
} from './paths.js';

/** Test-only: ERRAND_TEST_CRASH=after-memory-delete kills the process after a person's delete or clear, before the reply. */
const CRASH_AFTER_DELETE = process.env.ERRAND_TEST_CRASH === 'after-memory-delete';

/** A phone's command, to know it again when it is sent again after a crash. */
export interface CommandOnce {
  device: string;
  id: string;
}

/** A writer as clients see it, from the record alone (no thread titles: see register.ts for those). */
export const recordedWriter = (by: NoteWriter): MemoryWriter =>
  by.kind === 'task' ? { kind: 'task', threadId: by.threadId } : by;

export class MemoryService {
  /** Who last wrote each note (authors.ts). */
  readonly authors: MemoryAuthors;

  constructor(
    readonly root: string,
    private readonly instructionsFile: string,
    /** Where the last clear notes its command and count before it deletes (in the store folder). */
    private readonly clearNote = path.join(path.dirname(root), 'store', 'memory-clear.json'),
  ) {
    this.authors = new MemoryAuthors(root);
  }

  private async at(name: string) {
    try {
      const p = memoryPath(this.root, name);
      if (!p.segments.length) throw new ToolError('Name a file under /memories/.');
      await refuseLinks(this.root, p);
      return p;
    } catch (err) {
      throw new CommandError('bad_request', (err as Error).message);
    }
  }

  /**
   * The memory files sorted by path, at most MAX_MEMORY_LISTED of them, with how many there are in
   * all: a cut list says so, and which files it shows never depends on the order on disk.
   */
  async list(
    show: (by: NoteWriter) => MemoryWriter = recordedWriter,
  ): Promise<{ entries: MemoryEntry[]; total: number; truncated: boolean }> {
    const files = (await memoryFiles(this.root)).map((f) => ({
      path: `${MEMORY_PREFIX}/${f.segments.join('/')}`,
      bytes: f.bytes,
      modifiedAt: f.modifiedAt,
      stamp: f.stamp,
    }));
    files.sort((a, b) => byPath(a.path, b.path));
    const shown = files.slice(0, MAX_MEMORY_LISTED);
    const writers = await this.authors.writers(new Map(shown.map((f) => [f.path, f.stamp])), show);
    return {
      entries: shown.map(({ stamp: _, ...f }) => ({ ...f, writtenBy: writers.get(f.path) })),
      total: files.length,
      truncated: files.length > MAX_MEMORY_LISTED,
    };
  }

  async read(name: string, show: (by: NoteWriter) => MemoryWriter = recordedWriter): Promise<MemoryNote> {
    const p = await this.at(name);
    let st: import('node:fs').Stats;
    try {
      st = await fsp.lstat(p.real);
    } catch {
      throw new CommandError('not_found', `${p.name} does not exist.`);
    }
    if (!st.isFile()) throw new CommandError('bad_request', `${p.name} is not a file.`);
    if (st.size > MAX_MEMORY_FILE) throw new CommandError('too_large', `${p.name} is too large to show.`);
    const before = await this.authors.stamp(p.name);
    const text = await fsp.readFile(p.real, 'utf8');
    // Changed while read: which text this is, and so who wrote it, is not known.
    if (!before || before !== (await this.authors.stamp(p.name)))
      return { path: p.name, text, writtenBy: { kind: 'unknown' } };
    const writers = await this.authors.writers(new Map([[p.name, before]]), show);
    return { path: p.name, text, writtenBy: writers.get(p.name) };
  }

  /** Replace (or create) a note, recorded as written by `by`. */
  async write(
    name: string,
    text: string,
    by: NoteWriter,
    show: (by: NoteWriter) => MemoryWriter = recordedWriter,
  ): Promise<MemoryEntry> {
    const p = await this.at(name);
    if (Buffer.byteLength(text) > MAX_MEMORY_FILE)
      throw new CommandError('too_large', `A memory file holds at most ${MAX_MEMORY_FILE} bytes.`);
    // Checked and written under the folder's lock, as the memory tool's writes are (bounds.ts).
    await withMemoryLock(this.root, async () => {
      await this.refuseShape(p);
      const breach = await memoryBoundBreach(this.root, p.real, Buffer.byteLength(text));
      if (breach)
        throw new CommandError(
          'too_large',
          `${p.name} not saved: ${breach}. Delete notes you no longer need (Settings → Memory, or errand memory rm), then save again.`,
        );
      await fsp.mkdir(path.dirname(p.real), { recursive: true, mode: 0o700 });
      await refuseLinks(this.root, p);
      await writeAtomic(p.real, Buffer.from(text, 'utf8'), 0o600);
      await this.authors.wrote(p.name, by);
    });
    const st = await fsp.lstat(p.real);
    return { path: p.name, bytes: st.size, modifiedAt: Math.floor(st.mtimeMs), writtenBy: show(by) };
  }

  /**
   * What a device may not save, said as bad_request: a new name the model would be refused (an
   * invisible or direction-changing character, which every device and the model would then read),
   * a name that is a folder, or one under a note.
   */
  private async refuseShape(p: MemoryPath): Promise<void> {
    const target = await fsp.lstat(p.real).catch(() => undefined);
    if (target?.isDirectory())
      throw new CommandError('bad_request', `${p.name} is a folder: name a file inside it, like ${p.name}/notes.md.`);
    if (!target)
      try {
        refuseInvisibleName(p);
      } catch (err) {
        throw new CommandError('bad_request', (err as Error).message);
      }
    let dir = this.root;
    for (let i = 0; i < p.segments.length - 1; i++) {
      dir = path.join(dir, p.segments[i]);
      const st = await fsp.lstat(dir).catch(() => undefined);
      if (!st) return;
      if (!st.isDirectory())
        throw new CommandError(
          'bad_request',
          `${MEMORY_PREFIX}/${p.segments.slice(0, i + 1).join('/')} is a note, not a folder: choose another name.`,
        );
    }
  }

  /** Delete a note (or an empty folder); false when it was already gone. Durable on return. */
  async remove(name: string): Promise<boolean> {
    const p = await this.at(name);
    return withMemoryLock(this.root, async () => {
      await this.at(name); // again under the lock: no link crept onto its path meanwhile
      const st = await fsp.lstat(p.real).catch(() => undefined);
      if (!st) return false;
      if (st.isDirectory()) {
        const held = (await memoryFiles(p.real)).length;
        const what = held === 1 ? '1 note' : held ? `${held} notes` : 'other entries';
        if (held || (await fsp.readdir(p.real)).length)
          throw new CommandError(
            'bad_request',
            `${p.name} is a folder holding ${what}: delete them one by one, or clear all of memory.`,
          );
        await fsp.rmdir(p.real);
      } else await fsp.unlink(p.real);
      await fsyncDir(path.dirname(p.real));
      if (CRASH_AFTER_DELETE) process.kill(process.pid, 'SIGKILL');
      return true;
    });
  }

  /**
   * Delete every memory file; returns how many there were. `once` names a phone's command: sent
   * again after a crash cut off the first run's reply, it finishes that clear and gives its count.
   */
  async clear(once?: CommandOnce): Promise<number> {
    return withMemoryLock(this.root, async () => {
      const earlier = once ? await this.clearNoted(once) : undefined;
      const removed = earlier ?? (await memoryFiles(this.root)).length;
      if (once && earlier === undefined) {
        await fsp.mkdir(path.dirname(this.clearNote), { recursive: true, mode: 0o700 });
        await writeAtomic(this.clearNote, Buffer.from(JSON.stringify({ ...once, removed })), 0o600);
      }
      let names: string[];
      try {
        names = await fsp.readdir(this.root);
      } catch {
        return removed; // no memory folder: nothing to delete
      }
      for (const name of names) await fsp.rm(path.join(this.root, name), { recursive: true, force: true });
      await fsyncDir(this.root);
      if (CRASH_AFTER_DELETE) process.kill(process.pid, 'SIGKILL');
      return removed;
    });
  }

  /** The count the clear of this command noted, if the last clear was this command. */
  private async clearNoted(once: CommandOnce): Promise<number | undefined> {
    try {
      const note = JSON.parse(await fsp.readFile(this.clearNote, 'utf8')) as Partial<CommandOnce & { removed: number }>;
      return note.device === once.device && note.id === once.id && typeof note.removed === 'number'
        ? note.removed
        : undefined;
    } catch {
      return undefined;
    }
  }

  async instructions(): Promise<string> {
    try {
      return (await fsp.readFile(this.instructionsFile, 'utf8')).slice(0, MAX_INSTRUCTIONS);
    } catch {
      return '';
    }
  }

  async setInstructions(text: string): Promise<string> {
    if (text.length > MAX_INSTRUCTIONS)
      throw new CommandError('too_large', `Instructions hold at most ${MAX_INSTRUCTIONS} characters.`);
    await writeAtomic(this.instructionsFile, Buffer.from(text, 'utf8'), 0o600);
    return text;
  }
}
