// task.diff on real files: before → after from the change journal (what undo restores), for edited,
// created, trashed, binary, too-large and undone files; paths not in the task's journal are refused.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_DIFF_BYTES, MAX_DIFF_LINE_CHARS, TaskDiffResult } from '../../../shared/src/index.js';
import { type ToolsHarness, toolsHarness } from './helpers.js';

let h: ToolsHarness;
let ws: string;
beforeEach(async () => {
  h = await toolsHarness();
  ws = fs.realpathSync(h.ctx.paths.workspace);
});
afterEach(async () => {
  await h.close();
});

/** task.diff's answer, checked against the protocol's result schema. */
async function diff(taskId: string, p: string) {
  return TaskDiffResult.parse(await h.send('task.diff', { taskId, path: p })).diff;
}

describe('task.diff', () => {
  it('shows an edited file as hunks: removed and added lines with context', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`);
    fs.writeFileSync(path.join(ws, 'notes.txt'), lines.join('\n') + '\n');
    const task = h.task({ taskId: 'task_edit' });
    await h.run(
      'fs_edit',
      { path: 'notes.txt', old_text: 'line 10\n', new_text: 'line ten\nline ten and a half\n' },
      task,
    );
    const d = await diff('task_edit', path.join(ws, 'notes.txt'));
    expect(d).toEqual({
      kind: 'text',
      path: path.join(ws, 'notes.txt'),
      change: 'changed',
      added: 2,
      removed: 1,
      hunks: [
        {
          oldStart: 7,
          newStart: 7,
          lines: [
            ' line 7',
            ' line 8',
            ' line 9',
            '-line 10',
            '+line ten',
            '+line ten and a half',
            ' line 11',
            ' line 12',
            ' line 13',
          ],
        },
      ],
    });
  });

  it('a created file is all added; a trashed one all removed; later outside edits are flagged', async () => {
    const task = h.task({ taskId: 'task_mix' });
    await h.run('fs_write', { path: 'new.md', content: '# New\nhello\n' }, task);
    fs.writeFileSync(path.join(ws, 'old.txt'), 'keep\nme\n');
    await h.run('fs_delete', { path: 'old.txt' }, task);
    expect(await diff('task_mix', path.join(ws, 'new.md'))).toMatchObject({
      change: 'created',
      added: 2,
      removed: 0,
      hunks: [{ lines: ['+# New', '+hello'] }],
    });
    expect(await diff('task_mix', path.join(ws, 'old.txt'))).toMatchObject({
      change: 'deleted',
      hunks: [{ lines: ['-keep', '-me'] }],
    });
    expect((await diff('task_mix', path.join(ws, 'new.md'))).kind).toBe('text');
    fs.appendFileSync(path.join(ws, 'new.md'), 'added later\n');
    expect(await diff('task_mix', path.join(ws, 'new.md'))).toMatchObject({ changedSince: true, added: 3 });
  });

  it('binary and too-large files say so; long lines are cut', async () => {
    const task = h.task({ taskId: 'task_big' });
    await h.run('fs_write', { path: 'long.txt', content: `${'x'.repeat(MAX_DIFF_LINE_CHARS + 500)}\n` }, task);
    const long = await diff('task_big', path.join(ws, 'long.txt'));
    expect(long.kind === 'text' && long.hunks[0]!.lines[0]!.length).toBe(MAX_DIFF_LINE_CHARS + 2);
    fs.writeFileSync(path.join(ws, 'img.bin'), Buffer.from([1, 2, 0, 3]));
    fs.writeFileSync(path.join(ws, 'big.txt'), `unique\n${'a\n'.repeat(MAX_DIFF_BYTES / 2)}`);
    fs.writeFileSync(path.join(ws, 'many.txt'), Array.from({ length: 3000 }, (_, i) => `old ${i}`).join('\n'));
    expect((await h.run('fs_edit', { path: 'big.txt', old_text: 'unique\n', new_text: 'b\n' }, task)).isError).toBe(
      false,
    );
    await h.run('fs_delete', { path: 'img.bin' }, task);
    await h.run(
      'fs_write',
      { path: 'many.txt', content: Array.from({ length: 3000 }, (_, i) => `new ${i}`).join('\n') },
      task,
    );
    expect(await diff('task_big', path.join(ws, 'img.bin'))).toMatchObject({ kind: 'binary', size: 4 });
    expect(await diff('task_big', path.join(ws, 'big.txt'))).toMatchObject({ kind: 'too_large', reason: 'size' });
    expect(await diff('task_big', path.join(ws, 'many.txt'))).toMatchObject({ kind: 'too_large', reason: 'lines' });
  });

  it('after undo it says the changes were undone', async () => {
    fs.writeFileSync(path.join(ws, 'a.txt'), 'one\n');
    const task = h.task({ taskId: 'task_undo' });
    await h.run('fs_write', { path: 'a.txt', content: 'two\n' }, task);
    await h.send('task.undo', { taskId: 'task_undo' });
    expect(await diff('task_undo', path.join(ws, 'a.txt'))).toEqual({ kind: 'undone', path: path.join(ws, 'a.txt') });
  });

  it('refuses paths the task did not change, other tasks, private files and bad task ids', async () => {
    fs.writeFileSync(path.join(ws, 'untouched.txt'), 'private thoughts\n');
    fs.writeFileSync(path.join(h.outside, 'secret.txt'), 'TOP SECRET');
    const task = h.task({ taskId: 'task_ref' });
    await h.run('fs_write', { path: 'mine.txt', content: 'x\n' }, task);
    for (const p of [
      path.join(ws, 'untouched.txt'),
      path.join(h.outside, 'secret.txt'),
      h.ctx.paths.config,
      'mine.txt',
    ])
      await expect(h.send('task.diff', { taskId: 'task_ref', path: p })).rejects.toMatchObject({ code: 'not_found' });
    await expect(h.send('task.diff', { taskId: 'task_other', path: path.join(ws, 'mine.txt') })).rejects.toMatchObject({
      code: 'not_found',
    });
    // Not a task id at all: said so, as task.file does.
    await expect(h.send('task.diff', { taskId: '../x', path: path.join(ws, 'mine.txt') })).rejects.toMatchObject({
      code: 'bad_request',
    });
  });
});
