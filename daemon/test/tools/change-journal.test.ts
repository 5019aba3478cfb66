// The change journal answers "what did this task change" from what it wrote, before and after a
// restart, without a file lookup for tasks that changed nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ChangeJournal } from '../../src/tools/journal.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

it("lists a task's changes before and after a restart, and none for a task that changed nothing", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-changes-'));
  dirs.push(root);
  const work = path.join(root, 'work');
  fs.mkdirSync(work);
  const journalDir = path.join(root, 'journal');
  const trash = path.join(root, 'trash');

  const first = new ChangeJournal(journalDir, trash);
  expect(await first.changes('task-b')).toEqual([]); // asked before any change: the folder does not exist yet
  await first.writeFile('task-a', path.join(work, 'a.txt'), Buffer.from('alpha'));
  expect((await first.changes('task-a')).map((c) => c.op)).toEqual(['create']);
  expect(await first.changes('task-b')).toEqual([]);
  await first.writeFile('task-b', path.join(work, 'b.txt'), Buffer.from('beta'));
  expect((await first.changes('task-b')).map((c) => c.path)).toEqual([path.join(work, 'b.txt')]);

  // After a restart: a new journal on the same folder knows both.
  const again = new ChangeJournal(journalDir, trash);
  expect((await again.changes('task-a')).map((c) => c.path)).toEqual([path.join(work, 'a.txt')]);
  expect((await again.changes('task-b')).map((c) => c.op)).toEqual(['create']);
  expect(await again.changes('task-c')).toEqual([]);
});
