// A phone's memory commands (memory.put, memory.delete, memory.clear, instructions.put) change files
// the store's journal does not hold: the notes and the instructions file. The journal record that
// holds the command's reply comes after, so a kill -9 can lose the reply and keep the change. The
// phone then sends the same command again, maybe after the person acted on what they saw: run again,
// a put brings back a note they deleted, or puts older instructions over newer ones.
//
// So each such command is noted durably before it acts (begun) and marked done after it acted.
// Sent again, a done command answers as its first run did and does not act. A crash between the
// two leaves a begun note: it is settled once at start-up, before anything else changes memory,
// from what is on disk (the text written, the note gone): done if its change is there, else it has
// not acted and runs when sent again. One small file in the store folder, the last few hundred per
// device.
//
// A damaged file is never read as empty nor written over: each command is read on its own (one bad
// entry loses that one), and a file with any damage is moved aside whole, kept for the person, and
// reported (describeDamage) before the commands that could be read are written back.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CommandError } from '../../util/command-error.js';
import { fsyncDir, writeFileDurably } from '../../util/durable-file.js';

/** A phone's command, to know it again when it is sent again after a crash. */
export interface CommandOnce {
  device: string;
  id: string;
}

/**
 * What a clear is to remove, noted before it removes anything: a path under the memory folder
 * ("a/b.md"), and for all but folders its identity then (authors.ts stampOf). Finishing a clear a
 * crash cut off removes only these, and only while each is still the same file.
 */
const ClearEntry = z.object({ path: z.string(), stamp: z.string().optional() });
export type ClearEntry = z.infer<typeof ClearEntry>;

/** Enough to answer each command again without acting: never its text (a hash says it was written). */
const Noted = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('put'),
    path: z.string(),
    sha256: z.string(),
    bytes: z.number(),
    modifiedAt: z.number().optional(),
  }),
  z.object({ op: z.literal('instructions'), sha256: z.string() }),
  z.object({ op: z.literal('delete'), path: z.string(), removed: z.boolean() }),
  // `entries` only while begun (a done clear answers with its count); none in notes of older daemons.
  z.object({ op: z.literal('clear'), removed: z.number(), entries: z.array(ClearEntry).optional() }),
]);
const Once = z.object({ device: z.string(), id: z.string(), done: z.boolean() });
export type NotedCommand = z.infer<typeof Noted> & CommandOnce & { done: boolean };
const OneCommand = z.intersection(Noted, Once);
/** The file's outline only: each command is checked on its own, so one bad entry loses only itself. */
const NotesFile = z.object({ v: z.literal(1), commands: z.array(z.unknown()) });
/** What this file held when it noted only the last clear (memory-clear.json): run again, it finishes. */
const LastClear = z.object({ device: z.string(), id: z.string(), removed: z.number() });

/**
 * Commands kept per device: a resend comes soon after the crash (the phone's reconnect), and other
 * devices' commands meanwhile do not push a device's own out. Replies beyond are in the journal.
 */
export const NOTED_COMMANDS = 300;
/** And in all, so devices paired and gone over the years do not grow the file without end. */
export const NOTED_COMMANDS_IN_ALL = 1500;

const key = (c: CommandOnce) => `${c.device}\u0000${c.id}`;

/** A done command keeps only what its reply needs: a clear's list was for finishing it. */
function asDone(n: NotedCommand): NotedCommand {
  if (n.op !== 'clear') return { ...n, done: true };
  const { entries: _, ...count } = n;
  return { ...count, done: true };
}

/** The file as read: the commands that could be read, and what was wrong with it, if anything. */
interface NotesRead {
  notes: NotedCommand[];
  problem?: string;
}

/** Reads the notes file without changing it (start-up, and `errand doctor`). */
export async function readNotedCommands(file: string): Promise<NotesRead> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { notes: [] }; // none yet
    return { notes: [], problem: `it could not be read (${code ?? (err as Error).message})` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { notes: [], problem: 'it is not valid JSON' }; // written whole through a temp file: not torn
  }
  const clear = LastClear.safeParse(doc);
  if (clear.success) return { notes: [{ ...clear.data, op: 'clear', done: false }] };
  const outline = NotesFile.safeParse(doc);
  if (!outline.success) return { notes: [], problem: 'it does not hold a list of noted commands' };
  const notes: NotedCommand[] = [];
  for (const c of outline.data.commands) {
    const one = OneCommand.safeParse(c);
    if (one.success) notes.push(one.data as NotedCommand);
  }
  const bad = outline.data.commands.length - notes.length;
  return bad
    ? { notes, problem: `${bad} of its ${outline.data.commands.length} noted commands could not be read` }
    : { notes };
}

/** What load() found wrong with the file, and where the file is now. */
export interface NotesDamage {
  file: string;
  problem: string;
  movedTo: string;
  kept: number;
}

/** For the log: what was lost, what phone memory commands do now, and what to do. */
export function describeDamage(d: NotesDamage): string {
  return (
    `${d.file} was damaged (${d.problem}). Errand moved it to ${d.movedTo} and kept the ${d.kept} noted command(s) it could read. ` +
    'Phone memory commands work as usual, but one sent before the damage and sent again now (a crash cut off its reply) may act again: ' +
    `a note deleted since could come back. Check your notes (Settings → Memory, or errand memory list) once your phones have reconnected, then delete ${d.movedTo}.`
  );
}

/** The file is damaged and could not be moved aside: nothing is written over it, so nothing is noted. */
export class NotesNotMovedError extends CommandError {
  constructor(file: string, problem: string, why: string) {
    super(
      'unavailable',
      `${file} is damaged (${problem}) and could not be moved aside (${why}); Errand did not change it. ` +
        'Phone memory commands wait until it is fixed: move that file out of the store folder, then send the command again.',
    );
  }
}

export class NotedCommands {
  private byKey = new Map<string, NotedCommand>();

  constructor(private readonly file: string) {}

  /**
   * Reads the notes and settles those a crash left begun: `onDisk` gives the note done when its
   * change is on disk. Call once at start-up, under the memory folder's lock, before anything else
   * changes memory: later, a change made since (a delete, newer text) would hide whether it acted.
   * Returns the damage it found (the file was moved aside), for the log.
   */
  async load(onDisk: (n: NotedCommand) => Promise<NotedCommand | undefined>): Promise<NotesDamage | undefined> {
    const found = await readNotedCommands(this.file);
    const damage = found.problem ? await this.moveAside(found.problem, found.notes.length) : undefined;
    this.byKey = new Map(found.notes.map((n) => [key(n), n]));
    let changed = false;
    for (const [k, n] of this.byKey) {
      if (n.done) continue;
      const settled = await onDisk(n);
      if (settled) this.byKey.set(k, asDone(settled));
      changed ||= Boolean(settled);
    }
    // Durable now: a start-up after the next crash must not look again, with a delete made meanwhile.
    if (changed || damage) await this.save();
    return damage;
  }

  /** The damaged file kept whole beside itself: the next save must not write over it. */
  private async moveAside(problem: string, kept: number): Promise<NotesDamage> {
    const movedTo = `${this.file}.damaged-${Date.now()}`;
    try {
      await fsp.rename(this.file, movedTo);
      await fsyncDir(path.dirname(this.file));
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new NotesNotMovedError(this.file, problem, why);
    }
    return { file: this.file, problem, movedTo, kept };
  }

  /** The note of this command, if it was noted. */
  find(once: CommandOnce): NotedCommand | undefined {
    return this.byKey.get(key(once));
  }

  /** Note a command that is about to act; durable on return. Under the memory folder's lock. */
  async begin(n: NotedCommand): Promise<void> {
    this.byKey.delete(key(n));
    this.byKey.set(key(n), { ...n, done: false });
    this.dropOldest(n.device);
    await this.save();
  }

  /** Beyond the bounds, the oldest go: first this device's own, then any device's. */
  private dropOldest(device: string): void {
    const mine = [...this.byKey].filter(([, c]) => c.device === device);
    for (const [k] of mine.slice(0, Math.max(0, mine.length - NOTED_COMMANDS))) this.byKey.delete(k);
    for (const k of this.byKey.keys()) {
      if (this.byKey.size <= NOTED_COMMANDS_IN_ALL) break;
      this.byKey.delete(k);
    }
  }

  /** The command acted. Written now if it can be; if not, a crash leaves it begun, settled at start-up. */
  async finish(n: NotedCommand): Promise<void> {
    this.byKey.set(key(n), asDone(n));
    await this.save().catch(() => undefined);
  }

  private async save(): Promise<void> {
    await fsp.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await writeFileDurably(this.file, JSON.stringify({ v: 1, commands: [...this.byKey.values()] }), false);
  }
}
