// What Undo will do, in plain words, shown before the person confirms it.
import type { ChangeEntry } from '../../../shared/src/index.js';

const base = (p: string) => p.split(/[\\/]/).filter(Boolean).pop() ?? p;

function names(paths: string[]): string {
  const shown = paths.slice(0, 3);
  const more = paths.length - shown.length;
  const list = more > 0 ? [...shown, `${more} more`] : shown;
  return list.length <= 1 ? (list[0] ?? '') : `${list.slice(0, -1).join(', ')} and ${list.at(-1)}`;
}

export function undoPreview(changes: ChangeEntry[]): string {
  const open = changes.filter((c) => !c.undone);
  // The earliest change to a path decides what undo leaves there (created, then edited = removed).
  const first = new Map<string, ChangeEntry>();
  for (const c of [...open].sort((a, b) => a.at - b.at)) if (!first.has(c.path)) first.set(c.path, c);
  const group = (ops: ChangeEntry['op'][]) =>
    [...first.values()].filter((c) => ops.includes(c.op)).map((c) => base(c.path));
  const parts: string[] = [];
  const removed = group(['create', 'mkdir']);
  const restored = group(['write', 'edit']);
  const moved = group(['move']);
  const trashed = group(['trash']);
  if (removed.length) parts.push(`remove ${names(removed)}, which this task created`);
  if (restored.length) parts.push(`put back ${names(restored)} as ${restored.length > 1 ? 'they were' : 'it was'}`);
  if (moved.length) parts.push(`move ${names(moved)} back`);
  if (trashed.length) parts.push(`bring back ${names(trashed)} from the trash`);
  return parts.length ? `Undo will ${parts.join('; ')}.` : 'Nothing is left to undo.';
}
