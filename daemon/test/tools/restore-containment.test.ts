// Every restore (task.undo, `errand trash restore`) writes only inside the allowed folders at the
// moment it writes: a link planted on the way after the task, or a folder flipped between a real
// folder and a link while restores run, never leads a restored file outside.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { controlCall } from '../../src/control/client.js';
import { type ToolsHarness, toolsHarness } from './helpers.js';

let h: ToolsHarness;
let ws: string;
beforeEach(async () => {
  h = await toolsHarness({ listen: true });
  ws = fs.realpathSync(h.ctx.paths.workspace);
});
afterEach(async () => {
  await h.close();
});

const filesUnder = (dir: string): string[] =>
  fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.length > 0) : [];

it('undo does not follow a link planted in place of a deleted folder further up the path', async () => {
  fs.mkdirSync(path.join(ws, 'a', 'b'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'a', 'b', 'start.desktop'), '[Desktop Entry]');
  const task = h.task({ taskId: 'task_planted' });
  await h.run('fs_delete', { path: 'a/b/start.desktop' }, task);
  // After the task (think: an approved shell command), the folder is replaced by a link out.
  fs.rmSync(path.join(ws, 'a'), { recursive: true });
  fs.symlinkSync(h.outside, path.join(ws, 'a'));

  const result = await h.send('task.undo', { taskId: 'task_planted' });
  expect(result.restored).toEqual([]);
  expect(result.skipped).toEqual([
    { path: path.join(ws, 'a', 'b', 'start.desktop'), reason: expect.stringMatching(/link|outside/) },
  ]);
  expect(filesUnder(h.outside)).toEqual([]);
});

it('the trash restore refuses a path that now leads outside through a link', async () => {
  fs.mkdirSync(path.join(ws, 'c', 'd'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'c', 'd', 'x.txt'), 'x');
  await h.run('fs_delete', { path: 'c/d/x.txt' }, h.task({ taskId: 'task_t' }));
  fs.rmSync(path.join(ws, 'c'), { recursive: true });
  fs.symlinkSync(h.outside, path.join(ws, 'c'));
  const { items } = (await controlCall(h.ctx.paths.socket, 'trash.list')) as { items: Array<{ id: string }> };
  await expect(controlCall(h.ctx.paths.socket, 'trash.restore', { id: items[0].id })).rejects.toThrow(/leads to|link/);
  expect(filesUnder(h.outside)).toEqual([]);
  // Still in the trash, restorable once the link is gone.
  fs.unlinkSync(path.join(ws, 'c'));
  const r = (await controlCall(h.ctx.paths.socket, 'trash.restore', { id: items[0].id })) as { restored: string };
  expect(r.restored).toBe(path.join(ws, 'c', 'd', 'x.txt'));
  expect(fs.readFileSync(path.join(ws, 'c', 'd', 'x.txt'), 'utf8')).toBe('x');
});

it('undo refuses to write into a folder that is no longer allowed', async () => {
  const project = path.join(path.dirname(h.outside), 'project');
  fs.mkdirSync(project);
  h.setConfig((raw) => {
    raw.roots = [project];
  });
  fs.writeFileSync(path.join(project, 'notes.txt'), 'notes');
  await h.run('fs_delete', { path: path.join(project, 'notes.txt') }, h.task({ taskId: 'task_gone' }));
  h.setConfig((raw) => {
    raw.roots = [];
  });
  const result = await h.send('task.undo', { taskId: 'task_gone' });
  expect(result.restored).toEqual([]);
  expect(result.skipped[0]).toMatchObject({ path: path.join(project, 'notes.txt') });
  expect(fs.existsSync(path.join(project, 'notes.txt'))).toBe(false);
});

it('restores under a folder flipped between real and a link to outside land inside or are refused: zero escapes', async () => {
  const flip = path.join(ws, 'flip');
  fs.mkdirSync(flip);
  const count = 120;
  for (let i = 0; i < count; i++) {
    fs.writeFileSync(path.join(flip, `f${i}.txt`), `file ${i}`);
    await h.run('fs_delete', { path: `flip/f${i}.txt` }, h.task({ taskId: `task_flip${i}` }));
  }
  // A separate process swaps the folder for a link to outside and back, as fast as it can.
  const script = `
    const fs = require('fs');
    const [flip, outside] = process.argv.slice(1);
    const parked = flip + '.parked';
    const stop = Date.now() + 30000;
    process.stdin.on('data', () => process.exit(0));
    const loop = () => {
      for (let i = 0; i < 200 && Date.now() < stop; i++) {
        try { fs.renameSync(flip, parked); } catch {}
        try { fs.symlinkSync(outside, flip); } catch {}
        try { fs.unlinkSync(flip); } catch {}
        try { fs.renameSync(parked, flip); } catch {}
      }
      if (Date.now() < stop) setImmediate(loop); else process.exit(0);
    };
    loop();`;
  const flipper = spawn(process.execPath, ['-e', script, flip, h.outside], { stdio: ['pipe', 'ignore', 'inherit'] });
  const flipperExit = new Promise((resolve) => flipper.once('exit', resolve));
  let restored = 0;
  let refused = 0;
  try {
    for (let i = 0; i < count; i++) {
      const r = await h.send('task.undo', { taskId: `task_flip${i}` });
      restored += r.restored.length;
      refused += r.skipped.length;
    }
  } finally {
    flipper.stdin.end('stop');
    await flipperExit;
  }
  expect(restored + refused).toBe(count);
  expect(filesUnder(h.outside)).toEqual([]);
  // Where the flip left things, the link (if any) is removed; what was restored is inside.
  if (fs.lstatSync(flip, { throwIfNoEntry: false })?.isSymbolicLink()) fs.unlinkSync(flip);
  const inside = [...filesUnder(flip), ...filesUnder(`${flip}.parked`)];
  expect(inside.length).toBeGreaterThanOrEqual(restored);
});

it('undo of a folder move does not move back a link put in its place', async () => {
  fs.mkdirSync(path.join(ws, 'proj'));
  fs.writeFileSync(path.join(ws, 'proj', 'a.txt'), 'a');
  await h.run('fs_move', { from: 'proj', to: 'moved' }, h.task({ taskId: 'task_mv' }));
  fs.rmSync(path.join(ws, 'moved'), { recursive: true });
  fs.symlinkSync(h.outside, path.join(ws, 'moved'));
  const result = await h.send('task.undo', { taskId: 'task_mv' });
  expect(result.restored).toEqual([]);
  expect(fs.existsSync(path.join(ws, 'proj'))).toBe(false);
  expect(fs.lstatSync(path.join(ws, 'moved')).isSymbolicLink()).toBe(true);
});

it('a deleted file named like the trash note keeps its bytes and cannot forge where it came from', async () => {
  fs.mkdirSync(path.join(ws, 'x'));
  const forged = JSON.stringify({
    originalPath: path.join(ws, 'docs', 'elsewhere.json'),
    taskId: 'task_user',
    at: 9e12,
  });
  fs.writeFileSync(path.join(ws, 'x', 'errand-trash.json'), forged);
  await h.run('fs_delete', { path: 'x/errand-trash.json' }, h.task({ taskId: 'task_del' }));
  const { items } = (await controlCall(h.ctx.paths.socket, 'trash.list')) as {
    items: Array<{ id: string; originalPath: string; taskId: string }>;
  };
  expect(items).toEqual([
    expect.objectContaining({ originalPath: path.join(ws, 'x', 'errand-trash.json'), taskId: 'task_del' }),
  ]);
  await controlCall(h.ctx.paths.socket, 'trash.restore', { id: items[0].id });
  expect(fs.readFileSync(path.join(ws, 'x', 'errand-trash.json'), 'utf8')).toBe(forged);
  expect(fs.existsSync(path.join(ws, 'docs'))).toBe(false);
});

it('a folder moved to another disk and back keeps its links as links; nothing outside is touched', async () => {
  const shm = fs.mkdtempSync('/dev/shm/errand-root-');
  try {
    h.setConfig((raw) => {
      raw.roots = [...(raw.roots ?? []), shm];
    });
    fs.writeFileSync(path.join(h.outside, 'secret.txt'), 'SECRET');
    fs.mkdirSync(path.join(ws, 'tree', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'tree', 'sub', 'n.txt'), 'n');
    fs.writeFileSync(path.join(ws, 'tree', 'ro.txt'), 'read only', { mode: 0o444 });
    fs.chmodSync(path.join(ws, 'tree', 'sub'), 0o775);
    fs.symlinkSync(h.outside, path.join(ws, 'tree', 'out'));
    const modes = (root: string) => ({
      sub: fs.statSync(path.join(root, 'tree', 'sub')).mode & 0o7777,
      ro: fs.statSync(path.join(root, 'tree', 'ro.txt')).mode & 0o7777,
    });
    await h.run('fs_move', { from: path.join(ws, 'tree'), to: path.join(shm, 'tree') }, h.task({ taskId: 'task_x' }));
    expect(fs.lstatSync(path.join(shm, 'tree', 'out')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(shm, 'tree', 'sub', 'n.txt'), 'utf8')).toBe('n');
    expect(modes(shm)).toEqual({ sub: 0o775, ro: 0o444 });
    expect(fs.existsSync(path.join(ws, 'tree'))).toBe(false);
    const result = await h.send('task.undo', { taskId: 'task_x' });
    expect(result.skipped).toEqual([]);
    expect(fs.lstatSync(path.join(ws, 'tree', 'out')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(ws, 'tree', 'sub', 'n.txt'), 'utf8')).toBe('n');
    expect(modes(ws)).toEqual({ sub: 0o775, ro: 0o444 });
    expect(fs.existsSync(path.join(shm, 'tree'))).toBe(false);
    expect(fs.readFileSync(path.join(h.outside, 'secret.txt'), 'utf8')).toBe('SECRET');
  } finally {
    fs.rmSync(shm, { recursive: true, force: true });
  }
});
