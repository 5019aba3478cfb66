// Undo puts memory back only within its bound (500 files, 5 MB): a restore is a write like any
// other. A note (or a folder of notes) that would pass it is left in the trash and reported as
// skipped with what to do; once there is room, undo again puts it back. A rename undone inside
// memory adds nothing and goes through at the bound.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_MEMORY_FILES, MAX_MEMORY_TOTAL_BYTES } from '../../../shared/src/index.js';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness;
afterEach(async () => {
  await h?.close();
});

const mem = (input: Record<string, unknown>, task: ReturnType<ToolsHarness['task']>) => h.run('memory', input, task);

/** Every regular file under memory, and their bytes. */
function usage(): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) {
        files++;
        bytes += fs.statSync(full).size;
      }
    }
  };
  walk(h.ctx.paths.memory);
  return { files, bytes };
}

/** `count` notes of `bytes` each in memory/<dir>/, written straight to disk. */
function fill(dir: string, count: number, bytes: number): void {
  const at = path.join(h.ctx.paths.memory, dir);
  fs.mkdirSync(at, { recursive: true });
  for (let i = 0; i < count; i++)
    fs.writeFileSync(path.join(at, `${String(i).padStart(4, '0')}.md`), 'x'.repeat(bytes));
}

describe('undo within the memory bound', () => {
  it('an undone delete that would pass 5 MB is skipped with a reason; after making room, undo again restores it', async () => {
    h = await toolsHarness();
    const body = 'x'.repeat(100_000);
    for (let i = 0; i < 50; i++) await h.send('memory.put', { path: `/memories/n${i}.md`, text: body });
    expect(usage().bytes).toBe(MAX_MEMORY_TOTAL_BYTES);
    const task = h.task({ taskId: 'task_bytes' });
    expect((await mem({ command: 'delete', path: '/memories/n0.md' }, task)).isError).toBe(false);
    await h.send('memory.put', { path: '/memories/phone.md', text: body }); // full again

    const undo = await h.send('task.undo', { taskId: 'task_bytes' });
    expect(undo.restored).toEqual([]);
    expect(undo.skipped).toEqual([
      {
        path: '/memories/n0.md',
        reason: expect.stringContaining('memory is full (memory would hold 5,100,000 bytes in all'),
      },
    ]);
    expect(undo.skipped[0].reason).toContain('then undo again');
    expect(usage()).toEqual({ files: 50, bytes: MAX_MEMORY_TOTAL_BYTES });
    expect(fs.existsSync(path.join(h.ctx.paths.memory, 'n0.md'))).toBe(false);

    // Room made: the copy kept in the trash comes back.
    await h.send('memory.delete', { path: '/memories/phone.md' });
    const again = await h.send('task.undo', { taskId: 'task_bytes' });
    expect(again).toEqual({ restored: ['/memories/n0.md'], skipped: [] });
    expect(fs.readFileSync(path.join(h.ctx.paths.memory, 'n0.md'), 'utf8')).toBe(body);
  });

  it('an undone folder delete that would pass 500 files is skipped whole', async () => {
    h = await toolsHarness();
    fill('n', MAX_MEMORY_FILES - 3, 1);
    fill('dir', 3, 1);
    const task = h.task({ taskId: 'task_files' });
    expect((await mem({ command: 'delete', path: '/memories/dir' }, task)).isError).toBe(false);
    await h.send('memory.put', { path: '/memories/p1.md', text: 'b' });
    expect(usage().files).toBe(MAX_MEMORY_FILES - 2);

    const undo = await h.send('task.undo', { taskId: 'task_files' });
    expect(undo.restored).toEqual([]);
    expect(undo.skipped).toEqual([
      {
        path: '/memories/dir',
        reason: expect.stringContaining('memory holds 498 files and this would add 3; it holds at most 500'),
      },
    ]);
    expect(usage().files).toBe(MAX_MEMORY_FILES - 2);
    expect(fs.existsSync(path.join(h.ctx.paths.memory, 'dir'))).toBe(false);
  });

  it('an undone edit that shrank a note does not grow memory past 5 MB; a rename undone at the bound goes through', async () => {
    h = await toolsHarness();
    fill('big', 48, 100_000);
    await h.send('memory.put', { path: '/memories/a.md', text: `keep${'y'.repeat(99_996)}` });
    await h.send('memory.put', { path: '/memories/b.md', text: 'b' });
    const task = h.task({ taskId: 'task_edit' });
    const edit = await mem(
      { command: 'str_replace', path: '/memories/a.md', old_str: 'y'.repeat(99_996), new_str: '' },
      task,
    );
    expect(textOf(edit)).toBe('Edited memory /memories/a.md.');
    expect(
      (await mem({ command: 'rename', old_path: '/memories/b.md', new_path: '/memories/c.md' }, task)).isError,
    ).toBe(false);
    // The phone takes the room the edit freed.
    await h.send('memory.put', { path: '/memories/phone1.md', text: 'z'.repeat(100_000) });
    await h.send('memory.put', { path: '/memories/phone2.md', text: 'z'.repeat(99_995) });
    expect(usage().bytes).toBe(MAX_MEMORY_TOTAL_BYTES);

    const undo = await h.send('task.undo', { taskId: 'task_edit' });
    expect(undo.restored).toEqual(['/memories/b.md', '/memories/c.md']);
    expect(undo.skipped).toEqual([{ path: '/memories/a.md', reason: expect.stringContaining('memory is full') }]);
    expect(fs.readFileSync(path.join(h.ctx.paths.memory, 'a.md'), 'utf8')).toBe('keep');
    expect(usage().bytes).toBe(MAX_MEMORY_TOTAL_BYTES);
  });

  it('a memory write and an undo of the same task at once both finish (the lock and the turn are taken in one order)', async () => {
    h = await toolsHarness();
    const task = h.task({ taskId: 'task_both' });
    for (let i = 0; i < 20; i++) {
      await mem({ command: 'create', path: `/memories/d${i}.md`, file_text: 'one' }, task);
      await mem({ command: 'delete', path: `/memories/d${i}.md` }, task);
      const [write, undo] = await Promise.all([
        mem({ command: 'create', path: `/memories/e${i}.md`, file_text: 'two' }, task),
        h.send('task.undo', { taskId: 'task_both' }),
      ]);
      expect(write.isError).toBe(false);
      expect(undo.skipped).toEqual([]);
    }
  });
});
