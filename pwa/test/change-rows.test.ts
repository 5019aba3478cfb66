// The changed-files list: one row per file, followed through moves, in one phrase each.
import { describe, expect, it } from 'vitest';
import type { ChangeEntry } from '../../shared/src/index.js';
import { changeRows } from '../src/lib/change-rows.js';

let n = 0;
const change = (op: ChangeEntry['op'], path: string, more: Partial<ChangeEntry> = {}): ChangeEntry => ({
  id: `chg_${++n}`,
  taskId: 'tsk_1',
  op,
  path,
  at: n,
  ...more,
});
const rows = (list: ChangeEntry[]) =>
  changeRows(list).map((r) => ({ path: r.path, label: r.label, ...(r.from ? { from: r.from } : {}) }));

describe('changed files, one row per file', () => {
  it('a file written then edited twice is one row, its diff asked by its path', () => {
    const list = [change('create', '/w/notes.md'), change('edit', '/w/notes.md'), change('edit', '/w/notes.md')];
    expect(rows(list)).toEqual([{ path: '/w/notes.md', label: 'Created' }]);
    expect(changeRows(list)[0]).toMatchObject({
      key: list[0].id,
      diffPath: '/w/notes.md',
      trashed: false,
      created: true,
    });
    expect(changeRows([change('edit', '/w/old.md')])[0].created).toBe(false);
  });

  it('an existing file rewritten, edited, moved; a folder; a file moved to the trash', () => {
    expect(
      rows([
        change('mkdir', '/w/out'),
        change('write', '/w/a.txt'),
        change('edit', '/w/a.txt'),
        change('move', '/w/a.txt', { toPath: '/w/out/a.txt' }),
        change('trash', '/w/old.log'),
        change('write', '/w/b.txt'),
      ]),
    ).toEqual([
      { path: '/w/out', label: 'New folder' },
      { path: '/w/out/a.txt', label: 'Edited, then moved', from: '/w/a.txt' },
      { path: '/w/old.log', label: 'Moved to trash' },
      { path: '/w/b.txt', label: 'Wrote' },
    ]);
  });

  it('the diff of an edited-then-moved file is asked where the edits were made; a moved file has none', () => {
    const [edited, moved] = changeRows([
      change('edit', '/w/a.txt'),
      change('move', '/w/a.txt', { toPath: '/w/b.txt' }),
      change('move', '/w/c.txt', { toPath: '/w/d.txt' }),
    ]);
    expect(edited).toMatchObject({ path: '/w/b.txt', diffPath: '/w/a.txt' });
    expect(moved).toMatchObject({ path: '/w/d.txt', from: '/w/c.txt', label: 'Moved' });
    expect(moved.diffPath).toBeUndefined();
  });

  it('created then trashed; a new file at a trashed path is a row of its own', () => {
    expect(
      rows([change('create', '/w/tmp.txt'), change('trash', '/w/tmp.txt'), change('create', '/w/tmp.txt')]),
    ).toEqual([
      { path: '/w/tmp.txt', label: 'Created, then moved to trash' },
      { path: '/w/tmp.txt', label: 'Created' },
    ]);
  });

  it('undone when every change of the file was; partly undone otherwise', () => {
    const list = changeRows([
      change('create', '/w/a.md', { undone: true }),
      change('edit', '/w/a.md', { undone: true }),
      change('edit', '/w/b.md', { undone: true }),
      change('edit', '/w/b.md'),
    ]);
    expect(list.map((r) => [r.label, r.undone])).toEqual([
      ['Created (undone)', true],
      ['Edited (partly undone)', false],
    ]);
  });
});
