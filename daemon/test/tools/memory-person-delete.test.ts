// A person's delete and clear of memory: durable before the reply (the folder fsynced), exactly once
// (the same command run again, as after a crash that cut off its remembered reply, answers as the
// first run did), and a folder that still holds notes is not wiped by a delete.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CommandContext } from '../../src/server/command-router.js';
import { type ToolsHarness, toolsHarness } from './helpers.js';

/** Folders fsynced, in order (the real fsync still runs). */
const synced = vi.hoisted(() => [] as string[]);
vi.mock('../../src/util/durable-file.js', async (original) => {
  const real = await original<typeof import('../../src/util/durable-file.js')>();
  return {
    ...real,
    fsyncDir: async (dir: string) => {
      synced.push(dir);
      return real.fsyncDir(dir);
    },
  };
});

let h: ToolsHarness;
afterEach(async () => {
  synced.length = 0;
  await h?.close();
});

const phone: CommandContext = {
  device: { id: 'dev_phone', name: 'Phone', pairedAt: 0 },
  address: '127.0.0.1',
  connectionId: 'c1',
};
/** One command with a fixed id, as the phone sends it (and sends it again after a crash). */
const dispatch = (cmd: Record<string, unknown>) => h.ctx.commands.dispatch(cmd as never, phone) as Promise<any>;

describe("a person's memory delete and clear", () => {
  it('a delete is fsynced before the reply, and the same delete again answers {} as the first did', async () => {
    h = await toolsHarness();
    const root = h.ctx.paths.memory;
    await h.send('memory.put', { path: '/memories/sub/a.md', text: 'a' });
    synced.length = 0;
    const cmd = { id: 'cmd_delete_once', type: 'memory.delete', path: '/memories/sub/a.md' };
    expect(await dispatch(cmd)).toEqual({});
    expect(fs.existsSync(path.join(root, 'sub', 'a.md'))).toBe(false);
    expect(synced).toContain(path.join(root, 'sub'));
    // Sent again (its first reply lost to a crash): the note is gone, as it asked.
    expect(await dispatch(cmd)).toEqual({});
  });

  it('a clear is fsynced before the reply, and the same clear again gives the same count', async () => {
    h = await toolsHarness();
    const root = h.ctx.paths.memory;
    for (const n of ['a', 'b', 'c']) await h.send('memory.put', { path: `/memories/d/${n}.md`, text: n });
    synced.length = 0;
    const cmd = { id: 'cmd_clear_once', type: 'memory.clear' };
    expect(await dispatch(cmd)).toEqual({ removed: 3 });
    expect(fs.readdirSync(root)).toEqual([]);
    expect(synced).toContain(root);
    expect(await dispatch(cmd)).toEqual({ removed: 3 });
    // Another clear is another command: it counts what is there now.
    expect(await dispatch({ id: 'cmd_clear_next', type: 'memory.clear' })).toEqual({ removed: 0 });
  });

  it('a folder that holds notes is not deleted; an empty one is', async () => {
    h = await toolsHarness();
    const root = h.ctx.paths.memory;
    await h.send('memory.put', { path: '/memories/projects/a.md', text: 'a' });
    await h.send('memory.put', { path: '/memories/projects/b.md', text: 'b' });
    await expect(h.send('memory.delete', { path: '/memories/projects' })).rejects.toMatchObject({
      code: 'bad_request',
      message: '/memories/projects is a folder holding 2 notes: delete them one by one, or clear all of memory.',
    });
    expect(fs.readdirSync(path.join(root, 'projects')).sort()).toEqual(['a.md', 'b.md']);
    await h.send('memory.delete', { path: '/memories/projects/a.md' });
    await h.send('memory.delete', { path: '/memories/projects/b.md' });
    expect(await h.send('memory.delete', { path: '/memories/projects' })).toEqual({});
    expect(fs.existsSync(path.join(root, 'projects'))).toBe(false);
  });
});
