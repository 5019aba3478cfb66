// A task's change journal as the phone lists it: one row per file (or folder), followed through
// moves, saying in one phrase what the task did to it. The journal has one entry per tool call; a
// file written, edited twice and moved is one file to the person, with one diff.
import type { ChangeEntry } from '../../../shared/src/index.js';

export interface ChangeRow {
  /** The row's first change (stable while later changes are added). */
  key: string;
  /** Where it is now (after any move), or where it was when it went to the trash. */
  path: string;
  /** Where it was before the task moved it. */
  from?: string;
  /** "Created", "Edited, then moved", "Moved to trash" … with "(undone)" or "(partly undone)". */
  label: string;
  /** A folder the task made. */
  folder: boolean;
  /** The task changed its content: the path its diff is asked by (where the changes were made). */
  diffPath?: string;
  /** In the trash now: nothing to open. */
  trashed: boolean;
  /** The task made it (undo removes it; for a file it changed, undo puts the earlier version back). */
  created: boolean;
  /** Every change of the row was undone. */
  undone: boolean;
}

interface Building {
  key: string;
  path: string;
  from?: string;
  ops: ChangeEntry['op'][];
  undone: boolean[];
  contentPath?: string;
}

export function changeRows(changes: readonly ChangeEntry[]): ChangeRow[] {
  const rows: Building[] = [];
  /** The row of the file now at a path. */
  const at = new Map<string, Building>();
  const rowFor = (path: string, c: ChangeEntry): Building => {
    let row = at.get(path);
    if (!row) {
      row = { key: c.id, path, ops: [], undone: [] };
      rows.push(row);
      at.set(path, row);
    }
    return row;
  };
  for (const c of changes) {
    if (c.op === 'mkdir') {
      rows.push({ key: c.id, path: c.path, ops: ['mkdir'], undone: [!!c.undone] });
      continue;
    }
    const row = rowFor(c.path, c);
    row.ops.push(c.op);
    row.undone.push(!!c.undone);
    if (c.op === 'create' || c.op === 'write' || c.op === 'edit') row.contentPath = c.path;
    if (c.op === 'move' && c.toPath) {
      at.delete(c.path);
      row.from ??= c.path;
      row.path = c.toPath;
      // A file already at the destination was replaced: its row ends there; this one goes on.
      at.set(c.toPath, row);
    } else if (c.op === 'trash') at.delete(c.path);
  }
  return rows.map(finish);
}

function finish(r: Building): ChangeRow {
  const folder = r.ops[0] === 'mkdir';
  const created = r.ops.includes('create');
  const trashed = r.ops[r.ops.length - 1] === 'trash';
  const moved = r.ops.includes('move');
  const content = created ? 'Created' : r.ops.includes('edit') ? 'Edited' : r.ops.includes('write') ? 'Wrote' : '';
  let label = folder ? 'New folder' : content;
  if (moved && !trashed) label = label ? `${label}, then moved` : 'Moved';
  if (trashed) label = label ? `${label}, then moved to trash` : 'Moved to trash';
  const undoneAll = r.undone.every(Boolean);
  const undoneSome = !undoneAll && r.undone.some(Boolean);
  if (undoneAll) label += ' (undone)';
  else if (undoneSome) label += ' (partly undone)';
  return {
    key: r.key,
    path: r.path,
    ...(r.from && r.from !== r.path ? { from: r.from } : {}),
    label,
    folder,
    ...(r.contentPath ? { diffPath: r.contentPath } : {}),
    trashed,
    created: folder || created,
    undone: undoneAll,
  };
}
