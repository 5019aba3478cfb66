import { describe, expect, it } from 'vitest';
import type { ChangeEntry } from '../../shared/src/index.js';
import { undoPreview } from '../src/lib/undo-words.js';

let n = 0;
const c = (op: ChangeEntry['op'], path: string, undone = false): ChangeEntry => ({
  id: `chg_${++n}`,
  taskId: 'tsk_1',
  op,
  path,
  at: n,
  ...(undone ? { undone } : {}),
});

describe('undo preview', () => {
  it('says what undo removes, puts back, moves and brings back', () => {
    expect(undoPreview([c('create', '/w/report.md'), c('create', '/w/sales.csv')])).toBe(
      'Undo will remove report.md and sales.csv, which this task created.',
    );
    expect(undoPreview([c('write', '/w/a.md'), c('edit', '/w/a.md'), c('trash', '/w/old.txt')])).toBe(
      'Undo will put back a.md as it was; bring back old.txt from the trash.',
    );
    expect(undoPreview([c('create', '/w/n.md'), c('edit', '/w/n.md'), c('move', '/w/x.md')])).toBe(
      'Undo will remove n.md, which this task created; move x.md back.',
    );
  });

  it('names three files and counts the rest; undone changes are left out', () => {
    const many = ['a', 'b', 'c', 'd', 'e'].map((p) => c('edit', `/w/${p}.txt`));
    expect(undoPreview(many)).toBe('Undo will put back a.txt, b.txt, c.txt and 2 more as they were.');
    expect(undoPreview([c('create', '/w/z.md', true)])).toBe('Nothing is left to undo.');
  });
});
