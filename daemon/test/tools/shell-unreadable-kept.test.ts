// A shell command that makes a kept file unreadable (chmod 000): the comparison after it cannot
// read the file, so what the command did to it is unknown. The step says so, names the file, and is
// not undoable, instead of passing the file over in silence and claiming the step can be undone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { ChangeJournal } from '../../src/tools/journal.js';
import { withShellUndo } from '../../src/tools/shell-journal.js';

let base: string;
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(base, { recursive: true, force: true });
});

it('a kept file the command made unreadable is reported as not compared, and the step is not undoable', async () => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-unreadable-')));
  const folder = path.join(base, 'work');
  fs.mkdirSync(folder);
  const secret = path.join(folder, 'secret.txt');
  fs.writeFileSync(secret, 'kept before the command');
  fs.writeFileSync(path.join(folder, 'other.txt'), 'before');
  const journal = new ChangeJournal(path.join(base, 'journal'), path.join(base, 'trash'));

  const result = await withShellUndo({
    journal,
    taskId: 'thr_u.task_unreadable',
    cwd: folder,
    skip: () => false,
    run: async () => {
      // What the command does: takes away every permission on one file and changes another.
      fs.chmodSync(secret, 0o000);
      fs.writeFileSync(path.join(folder, 'other.txt'), 'after');
      // Root reads a mode-000 file all the same: its opens fail here as anyone else's would.
      if (process.getuid?.() === 0) {
        const openSync = fs.openSync;
        vi.spyOn(fs, 'openSync').mockImplementation(((p: fs.PathLike, flags: fs.OpenMode, mode?: fs.Mode) => {
          if (String(p).endsWith('/secret.txt'))
            throw Object.assign(new Error(`EACCES: permission denied, open '${p}'`), { code: 'EACCES' });
          return openSync(p, flags, mode);
        }) as typeof fs.openSync);
      }
    },
  });
  vi.restoreAllMocks();

  expect(result.undoable).toBe(false);
  expect(result.note).toContain('file changes recorded for undo: 1 modified');
  expect(result.note).toContain('1 changed file could not be compared');
  expect(result.note).toContain('secret.txt (it could not be read)');
  // What could be compared is still recorded.
  expect((await journal.changes('thr_u.task_unreadable')).map((c) => [c.op, path.basename(c.path)])).toEqual([
    ['write', 'other.txt'],
  ]);
});
