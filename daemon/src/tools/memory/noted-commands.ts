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
// not acted and runs when sent again. One small file in the store folder, the last few hundred.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileDurably } from '../../util/durable-file.js';

/** A phone's command, to know it again when it is sent again after a crash. */
export interface CommandOnce {
  device: string;
  id: string;
}

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
  z.object({ op: z.literal('clear'), removed: z.number() }),
]);
const Once = z.object({ device: z.string(), id: z.string(), done: z.boolean() });
export type NotedCommand = z.infer<typeof Noted> & CommandOnce & { done: boolean };
const NotesFile = z.object({ v: z.literal(1), commands: z.array(z.intersection(Noted, Once)) });
/** What this file held when it noted only the last clear (memory-clear.json): run again, it finishes. */
const LastClear = z.object({ device: z.string(), id: z.string(), removed: z.number() });

/** Commands kept: a resend comes soon after the crash (the phone's outbox); replies beyond are in the journal. */
export const NOTED_COMMANDS = 300;

const key = (c: CommandOnce) => `${c.device}\u0000${c.id}`;

export class NotedCommands {
  private byKey = new Map<string, NotedCommand>();

  constructor(private readonly file: string) {}

  /**
   * Reads the notes and settles those a crash left begun: `onDisk` gives the note done when its
   * change is on disk. Call once at start-up, under the memory folder's lock, before anything else
   * changes memory: later, a change made since (a delete, newer text) would hide whether it acted.
   */
  async load(onDisk: (n: NotedCommand) => Promise<NotedCommand | undefined>): Promise<void> {
    this.byKey = new Map((await this.read()).map((n) => [key(n), n]));
    let changed = false;
    for (const [k, n] of this.byKey) {
      if (n.done) continue;
      const settled = await onDisk(n);
      if (settled) this.byKey.set(k, settled);
      changed ||= Boolean(settled);
    }
    // Durable now: a start-up after the next crash must not look again, with a delete made meanwhile.
    if (changed) await this.save();
  }

  /** The note of this command, if it was noted. */
  find(once: CommandOnce): NotedCommand | undefined {
    return this.byKey.get(key(once));
  }

  /** Note a command that is about to act; durable on return. Under the memory folder's lock. */
  async begin(n: NotedCommand): Promise<void> {
    this.byKey.delete(key(n));
    this.byKey.set(key(n), { ...n, done: false });
    for (const k of this.byKey.keys()) {
      if (this.byKey.size <= NOTED_COMMANDS) break;
      this.byKey.delete(k);
    }
    await this.save();
  }

  /** The command acted. Written now if it can be; if not, a crash leaves it begun, settled at start-up. */
  async finish(n: NotedCommand): Promise<void> {
    this.byKey.set(key(n), { ...n, done: true });
    await this.save().catch(() => undefined);
  }

  private async read(): Promise<NotedCommand[]> {
    let doc: unknown;
    try {
      doc = JSON.parse(await fsp.readFile(this.file, 'utf8'));
    } catch {
      return []; // none yet (written whole through a temp file, it is never torn)
    }
    const notes = NotesFile.safeParse(doc);
    if (notes.success) return notes.data.commands as NotedCommand[];
    const clear = LastClear.safeParse(doc);
    return clear.success ? [{ ...clear.data, op: 'clear', done: false }] : [];
  }

  private async save(): Promise<void> {
    await fsp.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await writeFileDurably(this.file, JSON.stringify({ v: 1, commands: [...this.byKey.values()] }), false);
  }
}
