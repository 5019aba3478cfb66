// The user's side of memory: list, read, replace, delete and clear the memory files, and keep the
// personal instructions file. Same path rules as the memory tool (paths.ts); writes and deletes are
// durable before the reply, and made under the memory folder's lock like the model's.
//
// A person's delete is a delete (not the trash): "forget this" means gone. It takes one note, or an
// empty folder: a folder that still holds notes is refused, saying so, so that a delete never wipes
// more than the person picked. All of memory goes only with clear, which the app confirms first.
//
// Exactly once: the reply to a phone's command is remembered in the command's journal record, after
// the handler ran. A crash between the change and that record makes the phone send the command
// again. So a phone's put, delete, clear and instructions are noted durably before they act
// (noted-commands.ts): sent again, one that acted answers as it did and does not act again (a note
// the person deleted since stays deleted); one that had not acted yet acts (a clear with the count
// it noted, removing only what it noted: a note saved after the crash stays).
//
// The memory tool's delete and rename go through the change journal, which does not take the memory
// lock: a task can take a note away at any moment, even one a phone's put has just written.
import crypto from 'node:crypto';
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
import { MemoryAuthors, type NoteWriter, stampOf } from './authors.js';
import { byPath, memoryBoundBreach, memoryFiles, withMemoryLock } from './bounds.js';
import {
  type ClearEntry,
  type CommandOnce,
  type NotedCommand,
  NotedCommands,
  type NotesDamage,
} from './noted-commands.js';
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

export type { CommandOnce, NotesDamage } from './noted-commands.js';

const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

/** Gone already (a task's delete, which does not wait for the memory lock) is as good as removed. */
const unlessGone = (err: NodeJS.ErrnoException) => {
  if (err.code !== 'ENOENT') throw err;
};

/** A folder something was saved into since the clear was noted stays, with what it holds. */
const keptIfNotEmpty = (err: NodeJS.ErrnoException) => {
  if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST' && err.code !== 'ENOENT') throw err;
};

/**
 * Everything under the memory folder, links not followed, as a clear notes it (ClearEntry), and how
 * many of them are notes (regular files): the count a clear answers with.
 */
async function everythingIn(root: string): Promise<{ entries: ClearEntry[]; notes: number }> {
  const entries: ClearEntry[] = [];
  let notes = 0;
  const walk = async (dir: string, rel: string) => {
    const names = await fsp.readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const at = rel ? `${rel}/${name}` : name;
      const st = await fsp.lstat(path.join(dir, name), { bigint: true }).catch(() => undefined);
      if (!st) continue;
      if (st.isDirectory()) {
        entries.push({ path: at });
        await walk(path.join(dir, name), at);
        continue;
      }
      entries.push({ path: at, stamp: stampOf(st) });
      if (st.isFile()) notes++;
    }
  };
  await walk(root, '');
  return { entries, notes };
}

/** The noted entries still there as noted: a file with the same identity, a folder by its path. */
function stillThere(noted: ClearEntry[], now: ClearEntry[]): ClearEntry[] {
  const here = new Map(now.map((e) => [e.path, e.stamp]));
  return noted.filter((e) => here.has(e.path) && here.get(e.path) === e.stamp);
}

/** A writer as clients see it, from the record alone (no thread titles: see register.ts for those). */
export const recordedWriter = (by: NoteWriter): MemoryWriter =>
  by.kind === 'task' ? { kind: 'task', threadId: by.threadId } : by;

export class MemoryService {
  /** Who last wrote each note (authors.ts). */
  readonly authors: MemoryAuthors;
  /** A phone's commands, noted before they act (noted-commands.ts). */
  private readonly commands: NotedCommands;
  private settling?: Promise<NotesDamage | undefined>;

  constructor(
    readonly root: string,
    private readonly instructionsFile: string,
    /** Where a phone's commands are noted, in the store folder (named when it noted only clears). */
    commandsFile = path.join(path.dirname(root), 'store', 'memory-clear.json'),
  ) {
    this.authors = new MemoryAuthors(root);
    this.commands = new NotedCommands(commandsFile);
  }

  /**
   * Settles the commands a crash left begun, once (again after a failure). Every change here waits
   * for it, and start-up starts it, so it looks at disk before anything changes memory (the memory
   * tool's writes queue behind it on the lock). Never await it under the memory lock. Resolves with
   * the damage found in the notes file, which was moved aside (start-up logs it).
   */
  settleCommands(): Promise<NotesDamage | undefined> {
    this.settling ??= withMemoryLock(this.root, () => this.commands.load((n) => this.settledFromDisk(n))).catch(
      (err) => {
        this.settling = undefined;
        throw err;
      },
    );
    return this.settling;
  }

  /** True when this phone command acted already: sent again, it answers without acting. */
  async actedBefore(once: CommandOnce): Promise<boolean> {
    await this.settleCommands();
    return this.commands.find(once)?.done === true;
  }

  /** The note of `once`, when it is a command of this kind (an id reused for another is not it). */
  private noted<Op extends NotedCommand['op']>(
    once: CommandOnce | undefined,
    op: Op,
  ): Extract<NotedCommand, { op: Op }> | undefined {
    const n = once && this.commands.find(once);
    return n?.op === op ? (n as Extract<NotedCommand, { op: Op }>) : undefined;
  }

  /** A begun command done, when what it does is on disk; undefined when it has not acted. */
  private async settledFromDisk(n: NotedCommand): Promise<NotedCommand | undefined> {
    const done = { ...n, done: true };
    if (n.op === 'instructions') {
      const text = await fsp.readFile(this.instructionsFile, 'utf8').catch(() => '');
      return sha256(text) === n.sha256 ? done : undefined;
    }
    if (n.op === 'clear') {
      // An older daemon's clear noted no list: any entry left means it had not finished.
      if (!n.entries) return (await fsp.readdir(this.root).catch(() => [])).length ? undefined : done;
      return stillThere(n.entries, (await everythingIn(this.root)).entries).length ? undefined : done;
    }
    let real: string;
    try {
      real = memoryPath(this.root, n.path).real;
    } catch {
      return undefined;
    }
    const st = await fsp.lstat(real).catch(() => undefined);
    if (n.op === 'delete') return st ? undefined : done;
    if (!st?.isFile()) return undefined;
    const text = await fsp.readFile(real, 'utf8').catch(() => undefined);
    return text !== undefined && sha256(text) === n.sha256
      ? { ...n, done: true, modifiedAt: Math.floor(st.mtimeMs) }
      : undefined;
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

  /**
   * Replace (or create) a note, recorded as written by `by`. `once` names a phone's command: sent
   * again, one that wrote answers with the note it wrote and does not write again.
   */
  async write(
    name: string,
    text: string,
    by: NoteWriter,
    show: (by: NoteWriter) => MemoryWriter = recordedWriter,
    once?: CommandOnce,
  ): Promise<MemoryEntry> {
    const p = await this.at(name);
    if (Buffer.byteLength(text) > MAX_MEMORY_FILE)
      throw new CommandError('too_large', `A memory file holds at most ${MAX_MEMORY_FILE} bytes.`);
    await this.settleCommands();
    // Checked and written under the folder's lock, as the memory tool's writes are (bounds.ts).
    const wrote = await withMemoryLock(this.root, async () => {
      const earlier = this.noted(once, 'put');
      if (earlier?.done) return { path: earlier.path, bytes: earlier.bytes, modifiedAt: earlier.modifiedAt ?? 0 };
      await this.refuseShape(p);
      const breach = await memoryBoundBreach(this.root, p.real, Buffer.byteLength(text));
      if (breach)
        throw new CommandError(
          'too_large',
          `${p.name} not saved: ${breach}. Delete notes you no longer need (Settings → Memory, or errand memory rm), then save again.`,
        );
      await fsp.mkdir(path.dirname(p.real), { recursive: true, mode: 0o700 });
      await refuseLinks(this.root, p);
      const bytes = Buffer.byteLength(text);
      const note = once && ({ ...once, op: 'put', path: p.name, sha256: sha256(text), bytes, done: false } as const);
      if (note) await this.commands.begin(note);
      await writeAtomic(p.real, Buffer.from(text, 'utf8'), 0o600);
      await this.authors.wrote(p.name, by);
      const modifiedAt = await this.writtenAt(p.real);
      if (note) await this.commands.finish({ ...note, modifiedAt });
      return { path: p.name, bytes, modifiedAt };
    });
    return { ...wrote, writtenBy: show(by) };
  }

  /**
   * When the note just written was modified. A task may have deleted it since (see the top): it was
   * written all the same, so the put is done, and answered with the time it was written.
   */
  private async writtenAt(real: string): Promise<number> {
    const st = await fsp.lstat(real).catch(() => undefined);
    return Math.floor(st?.mtimeMs ?? Date.now());
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

  /**
   * Delete a note (or an empty folder); false when it was already gone. Durable on return. `once`
   * names a phone's command: sent again, one that ran answers as it did and does not delete again
   * (a note made since at that path stays).
   */
  async remove(name: string, once?: CommandOnce): Promise<boolean> {
    const p = await this.at(name);
    await this.settleCommands();
    return withMemoryLock(this.root, async () => {
      const earlier = this.noted(once, 'delete');
      if (earlier?.done) return earlier.removed;
      await this.at(name); // again under the lock: no link crept onto its path meanwhile
      const st = await fsp.lstat(p.real).catch(() => undefined);
      const note = once && ({ ...once, op: 'delete', path: p.name, removed: Boolean(st), done: false } as const);
      if (!st) {
        // Noted too: sent again after a note was made at this path, it must not delete that one.
        if (note) await this.commands.begin(note).then(() => this.commands.finish(note));
        return false;
      }
      if (st.isDirectory()) {
        const held = (await memoryFiles(p.real)).length;
        const what = held === 1 ? '1 note' : held ? `${held} notes` : 'other entries';
        if (held || (await fsp.readdir(p.real)).length)
          throw new CommandError(
            'bad_request',
            `${p.name} is a folder holding ${what}: delete them one by one, or clear all of memory.`,
          );
        if (note) await this.commands.begin(note);
        await fsp.rmdir(p.real).catch(unlessGone);
      } else {
        if (note) await this.commands.begin(note);
        await fsp.unlink(p.real).catch(unlessGone);
      }
      await fsyncDir(path.dirname(p.real));
      if (CRASH_AFTER_DELETE) process.kill(process.pid, 'SIGKILL');
      if (note) await this.commands.finish(note);
      return true;
    });
  }

  /**
   * Delete every memory file; returns how many there were. `once` names a phone's command: sent
   * again after a crash cut off the first run's reply, it gives the count it noted, and deletes only
   * if the first run had not finished, and then only what that run noted (notes written since stay).
   */
  async clear(once?: CommandOnce): Promise<number> {
    await this.settleCommands();
    return withMemoryLock(this.root, async () => {
      const earlier = this.noted(once, 'clear');
      if (earlier?.done) return earlier.removed;
      if (earlier && !earlier.entries) return this.finishOlderClear(earlier);
      const { entries, notes } = earlier?.entries
        ? { entries: earlier.entries, notes: earlier.removed }
        : await everythingIn(this.root);
      const note = once && ({ ...once, op: 'clear', removed: notes, entries, done: false } as const);
      if (note) await this.commands.begin(note);
      await this.removeNoted(entries);
      if (CRASH_AFTER_DELETE) process.kill(process.pid, 'SIGKILL');
      if (note) await this.commands.finish(note);
      return notes;
    });
  }

  /** A clear an older daemon noted (a count, no list) and a crash cut off: it empties the folder. */
  private async finishOlderClear(earlier: Extract<NotedCommand, { op: 'clear' }>): Promise<number> {
    await this.removeAll();
    await this.commands.finish(earlier);
    return earlier.removed;
  }

  /**
   * Removes what a clear noted, deepest first: a file only while it is still the one noted (the
   * same identity), a folder only once it is empty. Anything else, a note saved since, stays.
   */
  private async removeNoted(noted: ClearEntry[]): Promise<void> {
    const depth = (e: ClearEntry) => e.path.split('/').length;
    const left = stillThere(noted, (await everythingIn(this.root)).entries).sort((a, b) => depth(b) - depth(a));
    const folders = new Set([this.root]);
    for (const e of left) {
      const real = path.join(this.root, ...e.path.split('/'));
      if (e.stamp) await fsp.rm(real, { force: true });
      else await fsp.rmdir(real).catch(keptIfNotEmpty);
      folders.add(path.dirname(real));
    }
    // Durable before the reply; a folder removed in turn is made durable by its parent's sync.
    for (const dir of folders) await fsyncDir(dir).catch(unlessGone);
  }

  private async removeAll(): Promise<void> {
    let names: string[];
    try {
      names = await fsp.readdir(this.root);
    } catch {
      return; // no memory folder: nothing to delete
    }
    for (const name of names) await fsp.rm(path.join(this.root, name), { recursive: true, force: true });
    await fsyncDir(this.root);
  }

  async instructions(): Promise<string> {
    try {
      return (await fsp.readFile(this.instructionsFile, 'utf8')).slice(0, MAX_INSTRUCTIONS);
    } catch {
      return '';
    }
  }

  /**
   * Replace the personal instructions. `once` names a phone's command: sent again, one that wrote
   * does not write again (newer instructions saved since stay).
   */
  async setInstructions(text: string, once?: CommandOnce): Promise<string> {
    if (text.length > MAX_INSTRUCTIONS)
      throw new CommandError('too_large', `Instructions hold at most ${MAX_INSTRUCTIONS} characters.`);
    await this.settleCommands();
    // Under the memory lock too: its notes and their settling at start-up share one file.
    return withMemoryLock(this.root, async () => {
      if (this.noted(once, 'instructions')?.done) return text;
      const note = once && ({ ...once, op: 'instructions', sha256: sha256(text), done: false } as const);
      if (note) await this.commands.begin(note);
      await writeAtomic(this.instructionsFile, Buffer.from(text, 'utf8'), 0o600);
      if (note) await this.commands.finish(note);
      return text;
    });
  }
}
