// What the agent remembers across threads (the memory tool's files under /memories) and the
// personal instructions the user keeps: read, edited and cleared from the phone and the CLI.
// Kept apart from commands.ts, which only spreads these into its union.
import { z } from 'zod';
import { cmd } from './command-shape.js';
import { Id, Timestamp } from './entities.js';

/** A memory file's name as the agent sees it: /memories/... */
export const MemoryPath = z
  .string()
  .min(10)
  .max(512)
  .regex(/^\/memories\/[^\0]+$/, 'a path under /memories/');
/** The largest memory file (bytes); the memory tool holds the same limit. */
export const MAX_MEMORY_BYTES = 100_000;
/**
 * Memory as a whole holds at most this many files and bytes: one reply can ask for dozens of
 * creates, and no one approves them in a clean thread. A change that would pass either is refused.
 */
export const MAX_MEMORY_FILES = 500;
export const MAX_MEMORY_TOTAL_BYTES = 5_000_000;
/** memory.list names at most this many files (sorted by path), so one reply stays small. */
export const MAX_MEMORY_LISTED = 1000;
/** The personal instructions file, at most this many characters. */
export const MAX_INSTRUCTIONS = 20_000;

/** The longest thread title or device name a MemoryWriter carries (the daemon cuts longer ones). */
export const MAX_WRITER_NAME = 200;

/**
 * Who last wrote a memory note, so a note the model saved never looks like one the person saved:
 * - `task`: the memory tool, in the thread `threadId` (`threadTitle` absent once the thread is gone);
 * - `device`: memory.put from the paired device `deviceId` (its name now, or when it wrote);
 * - `computer`: the errand CLI on the computer;
 * - `outside`: Errand wrote it, but it changed since outside Errand (an editor, a shell, an undo);
 * - `unknown`: no record: written outside Errand, or before Errand noted who writes.
 */
export const MemoryWriter = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('task'), threadId: Id, threadTitle: z.string().max(MAX_WRITER_NAME).optional() }),
  z.object({ kind: z.literal('device'), deviceId: Id, deviceName: z.string().max(MAX_WRITER_NAME) }),
  z.object({ kind: z.literal('computer') }),
  z.object({ kind: z.literal('outside') }),
  z.object({ kind: z.literal('unknown') }),
]);
export type MemoryWriter = z.infer<typeof MemoryWriter>;

export const MemoryEntry = z.object({
  path: MemoryPath,
  bytes: z.number().int().nonnegative(),
  modifiedAt: Timestamp,
  /** Who last wrote it; optional: an older daemon sends none. */
  writtenBy: MemoryWriter.optional(),
});
export type MemoryEntry = z.infer<typeof MemoryEntry>;

/**
 * The reply to memory.list. `total` and `truncated` came later: optional, so a phone still reads an
 * older daemon's reply (it then shows the entries as all there is, as it always did).
 */
export const MemoryListResult = z.object({
  /** Sorted by path; the first MAX_MEMORY_LISTED when there are more. */
  entries: z.array(MemoryEntry),
  enabled: z.boolean(),
  /** How many memory files there are in all (entries may be fewer). */
  total: z.number().int().nonnegative().optional(),
  /** True when entries are only the first MAX_MEMORY_LISTED of `total`. */
  truncated: z.boolean().optional(),
});
export type MemoryListResult = z.infer<typeof MemoryListResult>;

/** The reply to memory.get. */
export const MemoryNote = z.object({
  path: z.string(),
  text: z.string(),
  /** Who last wrote it (as in MemoryEntry); an older daemon sends none. */
  writtenBy: MemoryWriter.optional(),
});
export type MemoryNote = z.infer<typeof MemoryNote>;

export const MemoryCommands = [
  /** Reply: MemoryListResult { entries, enabled, total, truncated } */
  cmd('memory.list', {}),
  /** Reply: MemoryNote { path, text, writtenBy } */
  cmd('memory.get', { path: MemoryPath }),
  /** Replace a memory file's text (creates it). Reply: { entry: MemoryEntry } */
  cmd('memory.put', { path: MemoryPath, text: z.string().max(MAX_MEMORY_BYTES) }),
  /** Reply: {} */
  cmd('memory.delete', { path: MemoryPath }),
  /** Delete every memory file. Reply: { removed: number } */
  cmd('memory.clear', {}),
  /** The personal instructions (in every task's system prompt). Reply: { text } */
  cmd('instructions.get', {}),
  /** Reply: { text } */
  cmd('instructions.put', { text: z.string().max(MAX_INSTRUCTIONS) }),
] as const;

export const MEMORY_MUTATING = ['memory.put', 'memory.delete', 'memory.clear', 'instructions.put'] as const;
