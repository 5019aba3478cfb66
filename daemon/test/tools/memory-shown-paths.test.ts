// Memory is named /memories/… to the phone and the model, never by where it lives in Errand's home:
// in changes.updated, task.changes, the files a finished task changed, undo's reply (its reasons
// too) and the model's error text. A name too long for the disk (counted in bytes: "é" is two) is
// refused as such, to the model and to the phone (bad_request, not an internal error).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { canMountSmallDisk, fill } from '../helpers/small-disk.js';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness;
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) c();
  await h?.close();
});

const LONG = `/memories/${'é'.repeat(200)}.md`; // 203 characters, 403 bytes

describe('memory as /memories', () => {
  it('a name longer than 255 bytes is refused as too long, to the model and to the phone', async () => {
    h = await toolsHarness();
    const r = await h.run('memory', { command: 'create', path: LONG, file_text: 'x' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('is too long (403 bytes in UTF-8; a name holds at most 255)');
    await expect(h.send('memory.put', { path: LONG, text: 'x' })).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringContaining('is too long'),
    });
    expect(fs.readdirSync(h.ctx.paths.memory)).toEqual([]);
    // 255 bytes is still a name.
    const fits = `/memories/${'é'.repeat(125)}.md`; // 253 bytes
    expect((await h.run('memory', { command: 'create', path: fits, file_text: 'x' })).isError).toBe(false);
  });

  it('changes, the changed files and undo name memory /memories/…', async () => {
    h = await toolsHarness();
    const task = h.task({ taskId: 'task_shown' });
    await h.run('memory', { command: 'create', path: '/memories/a.md', file_text: 'hello' }, task);
    await h.run('memory', { command: 'create', path: '/memories/gone.md', file_text: 'bye' }, task);
    await h.run('memory', { command: 'delete', path: '/memories/gone.md' }, task);
    await h.run('memory', { command: 'rename', old_path: '/memories/a.md', new_path: '/memories/b.md' }, task);
    const event = await h.waitEvent('changes.updated', (e) => e.taskId === 'task_shown' && e.count === 4);
    expect(event.changes.map((c) => [c.op, c.path, c.toPath])).toEqual([
      ['create', '/memories/a.md', undefined],
      ['create', '/memories/gone.md', undefined],
      ['trash', '/memories/gone.md', undefined],
      ['move', '/memories/a.md', '/memories/b.md'],
    ]);
    expect((await h.send('task.changes', { taskId: 'task_shown' })).changes).toEqual(event.changes);
    expect(await h.tools.changedFiles?.('task_shown')).toEqual([
      '/memories/a.md',
      '/memories/gone.md',
      '/memories/b.md',
    ]);

    // The phone writes gone.md again: undo leaves it, and says so by its /memories name.
    await h.send('memory.put', { path: '/memories/gone.md', text: 'mine now' });
    const undo = await h.send('task.undo', { taskId: 'task_shown' });
    expect(undo).toEqual({
      restored: ['/memories/a.md', '/memories/b.md'],
      skipped: [{ path: '/memories/gone.md', reason: '/memories/gone.md exists again; left as it is' }],
    });
    const told = JSON.stringify([h.events, undo]);
    expect(told).not.toContain(h.ctx.paths.memory);
  });

  it("the model's error text names memory /memories/…, never the home folder", async () => {
    h = await toolsHarness();
    fs.writeFileSync(path.join(h.ctx.paths.memory, 'f.md'), 'a note, not a folder');
    const r = await h.run('memory', { command: 'create', path: '/memories/f.md/x.md', file_text: 'y' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('/memories/f.md');
    expect(textOf(r)).not.toContain(h.home);
  });

  it.skipIf(!canMountSmallDisk)(
    "a system error reaches the model as what it means, not the system's text",
    async () => {
      h = await toolsHarness();
      const memory = h.ctx.paths.memory;
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', memory]);
      cleanups.push(() => execFileSync('umount', ['-l', memory]));
      cleanups.push(fill(path.join(memory, 'filler')));
      const r = await h.run('memory', { command: 'create', path: '/memories/sub/a.md', file_text: 'y'.repeat(5000) });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toBe(
        'Create memory /memories/sub/a.md failed: the disk is full. Check the memory folder with view, then try again or tell the user.',
      );
    },
  );
});
