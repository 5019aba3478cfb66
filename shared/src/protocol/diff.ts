// task.diff: what a task changed in one text file, before → after, as unified-diff hunks computed
// by the host from the change journal (the same before-content undo restores). Kept apart from
// commands.ts, which only spreads the command into its union.
import { z } from 'zod';
import { cmd } from './command-shape.js';
import { Id } from './entities.js';

/** Each side (before, after) is read up to this many bytes; a larger file answers too_large. */
export const MAX_DIFF_BYTES = 1_000_000;
/** The most lines (changed and context) one answer shows; more answers too_large. */
export const MAX_DIFF_LINES = 4000;
/** A longer line is cut to this many characters, ending with "…". */
export const MAX_DIFF_LINE_CHARS = 2000;

/** One hunk: `lines` start with " " (unchanged), "-" (removed) or "+" (added), like a unified diff. */
export const DiffHunk = z.object({
  /** 1-based number, in the file before, of the hunk's first line (count on through " " and "-" lines). */
  oldStart: z.number().int().positive(),
  /** 1-based number, in the file after, of the hunk's first line (count on through " " and "+" lines). */
  newStart: z.number().int().positive(),
  lines: z.array(z.string().max(MAX_DIFF_LINE_CHARS + 2)).max(MAX_DIFF_LINES),
});
export type DiffHunk = z.infer<typeof DiffHunk>;

/** created: did not exist before the task; deleted: the task moved it to the trash. */
export const DiffChange = z.enum(['created', 'changed', 'deleted']);

export const FileDiff = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('text'),
    path: z.string(),
    change: DiffChange,
    added: z.number().int().nonnegative(),
    removed: z.number().int().nonnegative(),
    hunks: z.array(DiffHunk).max(MAX_DIFF_LINES),
    /** The file is no longer what the task left: "after" is what is there now. */
    changedSince: z.boolean().optional(),
  }),
  z.object({ kind: z.literal('binary'), path: z.string(), change: DiffChange, size: z.number().int().nonnegative() }),
  /** size: a side is over MAX_DIFF_BYTES; lines: over MAX_DIFF_LINES to show or too many edits to compute. */
  z.object({
    kind: z.literal('too_large'),
    path: z.string(),
    change: DiffChange,
    reason: z.enum(['size', 'lines']),
    size: z.number().int().nonnegative(),
  }),
  /** Every change the task made to this file was undone. */
  z.object({ kind: z.literal('undone'), path: z.string() }),
  /** The task only moved the file here, without changing its content. */
  z.object({ kind: z.literal('moved'), path: z.string(), from: z.string() }),
]);
export type FileDiff = z.infer<typeof FileDiff>;

/** The reply to task.diff. */
export const TaskDiffResult = z.object({ diff: FileDiff });
export type TaskDiffResult = z.infer<typeof TaskDiffResult>;

export const DiffCommands = [
  /** A file the task changed (a path in its change journal), before → after. Reply: TaskDiffResult */
  cmd('task.diff', { taskId: Id, path: z.string().min(1).max(4096) }),
] as const;
