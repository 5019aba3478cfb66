// task.diff: one file a task changed, before → after. "Before" is what undo would restore (the
// journal's blob, or nothing for a file the task created, or the trashed copy); "after" is the file
// as it is now. Only paths in the task's change journal are answered, never a private one, and
// nothing is read through a link. A read by a paired device, like task.file: not audited. Known
// secrets in either side are redacted (secret-views.ts).
import fsp from 'node:fs/promises';
import path from 'node:path';
import { lineDiff, splitLines } from '../../../shared/src/diff.js';
import {
  type DiffHunk,
  type FileDiff,
  MAX_DIFF_BYTES,
  MAX_DIFF_LINE_CHARS,
  MAX_DIFF_LINES,
  type TaskDiffResult,
} from '../../../shared/src/index.js';
import type { DaemonContext } from '../context.js';
import { CommandError } from '../util/command-error.js';
import { type ChangeJournal, readNoFollow } from './journal.js';
import type { KnownSecrets } from './redact.js';
import type { Roots } from './roots.js';
import { redactedHunks } from './secret-views.js';
import { sha256, ToolError } from './util.js';

type Side = { data: Buffer } | { tooLarge: number } | undefined;

/** A side's bytes, or its size when over the bound, or undefined when it is gone. */
async function readSide(file: string | undefined): Promise<Side> {
  if (!file) return undefined;
  const st = await fsp.lstat(file).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  if (st.size > MAX_DIFF_BYTES) return { tooLarge: st.size };
  try {
    return { data: (await readNoFollow(file)).data };
  } catch {
    return undefined;
  }
}

/** Text when it is UTF-8 without NUL bytes; undefined for binary content. */
function asText(data: Buffer): string | undefined {
  if (data.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return undefined;
  }
}

const clip = (line: string) =>
  line.length > MAX_DIFF_LINE_CHARS + 1 ? `${line.slice(0, MAX_DIFF_LINE_CHARS + 1)}…` : line;

/** The most added + removed lines computed. */
const MAX_EDITS = 1500;

export function registerDiffCommand(
  ctx: Pick<DaemonContext, 'commands'>,
  journal: ChangeJournal,
  roots: Roots,
  secrets: () => KnownSecrets,
  /** Throws not_found for a task that does not exist (a link from any page can name one). */
  knownTask: (taskId: string) => Promise<void>,
): void {
  ctx.commands.register('task.diff', async (cmd): Promise<TaskDiffResult> => {
    await knownTask(cmd.taskId);
    const p = cmd.path;
    // An id that cannot name a task has no changes.
    const entries = await journal.entries(cmd.taskId).catch((err: unknown) => {
      if (err instanceof ToolError) return [];
      throw err;
    });
    const mine = entries.filter((e) => e.path === p || e.toPath === p);
    if (!mine.length || !path.isAbsolute(p) || roots.isPrivate(p))
      throw new CommandError('not_found', 'That file is not one this task changed.');
    const live = mine.filter((e) => !e.undone);
    if (!live.length) return { diff: { kind: 'undone', path: p } };
    const content = live.filter(
      (e) =>
        e.kind === 'file' &&
        e.path === p &&
        (e.op === 'create' || e.op === 'write' || e.op === 'edit' || e.op === 'trash'),
    );
    if (!content.length) {
      const move = live.find((e) => e.op === 'move' && e.toPath === p);
      if (move?.kind === 'file') return { diff: { kind: 'moved', path: p, from: move.path } };
      throw new CommandError('not_found', 'That path is a folder, not a file this task changed.');
    }
    // A folder on the way that became a link since the task is not followed.
    if ((await fsp.realpath(path.dirname(p)).catch(() => '')) !== path.dirname(p) && content.at(-1)!.op !== 'trash')
      throw new CommandError('not_found', 'That file is no longer where the task left it.');

    const first = content[0]!;
    const last = content.at(-1)!;
    const change = first.op === 'create' ? 'created' : last.op === 'trash' ? 'deleted' : 'changed';
    const before: Side =
      first.op === 'create'
        ? { data: Buffer.alloc(0) }
        : first.op === 'trash'
          ? await readSide(first.trashPath)
          : first.beforeBlob
            ? { data: await journal.readBlob(cmd.taskId, first.beforeBlob) }
            : undefined;
    const after: Side = last.op === 'trash' ? { data: Buffer.alloc(0) } : await readSide(p);
    const changedSince = last.op !== 'trash' && (!after || ('data' in after && sha256(after.data) !== last.afterSha));
    const nowSide: Side = after ?? { data: Buffer.alloc(0) };
    if (!before) throw new CommandError('not_found', "The file's earlier version is no longer kept.");
    if ('tooLarge' in before || 'tooLarge' in nowSide) {
      const size = Math.max('tooLarge' in before ? before.tooLarge : 0, 'tooLarge' in nowSide ? nowSide.tooLarge : 0);
      return { diff: { kind: 'too_large', path: p, change, reason: 'size', size } };
    }
    const oldText = asText(before.data);
    const newText = asText(nowSide.data);
    if (oldText === undefined || newText === undefined)
      return { diff: { kind: 'binary', path: p, change, size: Math.max(before.data.length, nowSide.data.length) } };
    const size = Math.max(before.data.length, nowSide.data.length);
    const hunks = diffLines(oldText, newText);
    if (!hunks) return { diff: { kind: 'too_large', path: p, change, reason: 'lines', size } };
    let added = 0;
    let removed = 0;
    for (const h of hunks)
      for (const l of h.lines) {
        if (l[0] === '+') added++;
        else if (l[0] === '-') removed++;
      }
    const diff: FileDiff = {
      kind: 'text',
      path: p,
      change,
      added,
      removed,
      hunks: redactedHunks(hunks, secrets()),
      ...(changedSince ? { changedSince: true } : {}),
    };
    return { diff };
  });
}

/** Hunks with long lines clipped, or undefined when there are too many lines to show or compute. */
function diffLines(oldText: string, newText: string): DiffHunk[] | undefined {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  // The edit cap bounds the work (O((N+M)·D) time, O(D²) memory): an answer showing more changed
  // lines than this would be too long to read on a phone anyway.
  const hunks = lineDiff(a, b, { maxEdits: MAX_EDITS });
  if (!hunks) return undefined;
  let shown = 0;
  for (const h of hunks) shown += h.lines.length;
  if (shown > MAX_DIFF_LINES) return undefined;
  return hunks.map((h) => ({ ...h, lines: h.lines.map(clip) }));
}
