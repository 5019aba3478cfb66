// A task's undo tapped while the same task is changing a file: the undo waits for the whole change
// (its checks, the content it keeps, the act) and then undoes it too. It never lands between a
// tool's look at the path and its act, where the act would overwrite what the undo restored (the
// user's file lost) or record a state that is no longer so (a wrong undo later).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { ChangeJournal, type UndoResult } from '../../src/tools/journal.js';

let base: string;
let ws: string;
let journal: ChangeJournal;
beforeEach(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'undo-during-change-')));
  ws = path.join(base, 'ws');
  fs.mkdirSync(ws);
  journal = new ChangeJournal(path.join(base, 'journal'), path.join(base, 'trash'));
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(base, { recursive: true, force: true });
});

const TASK = 'task_a';
const USER = 'USER DATA (there before the task)';
const read = (p: string) => (fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : '(absent)');

/**
 * Start the task's undo the first time a file tool looks at `name` (lstat): right after its check,
 * as a phone's Undo may arrive. Returns the undo's result once started.
 */
function undoAtCheckOf(name: string): () => Promise<UndoResult> {
  let undo: Promise<UndoResult> | undefined;
  const lstat = fsp.lstat;
  vi.spyOn(fsp, 'lstat').mockImplementation((async (p: fs.PathLike, ...rest: []) => {
    const r = lstat(p, ...rest);
    await r.catch(() => undefined);
    if (!undo && String(p).endsWith(`/${name}`)) undo = journal.undo(TASK);
    return r;
  }) as typeof fsp.lstat);
  return () => {
    expect(undo, 'the undo was started').toBeDefined();
    return undo!;
  };
}

it('an undo and a write started together: the write of a file the task created is undone as a create', async () => {
  const f = path.join(ws, 'f.txt');
  await journal.writeFile(TASK, f, Buffer.from('A'));
  const undo = journal.undo(TASK);
  const write = journal.writeFile(TASK, f, Buffer.from('B'));
  await undo;
  await write;
  expect(read(f)).toBe('B');
  await journal.undo(TASK);
  // The task created f: after undoing everything it is gone, not back to an earlier content.
  expect(read(f)).toBe('(absent)');
  expect((await journal.changes(TASK)).every((c) => c.undone)).toBe(true);
});

it('an undo restoring a trashed file just after a move checked the place was free: the file is not overwritten', async () => {
  const g = path.join(ws, 'g.txt');
  const h = path.join(ws, 'h.txt');
  fs.writeFileSync(g, USER);
  fs.writeFileSync(h, 'other');
  await journal.trash(TASK, g);
  const undone = undoAtCheckOf('g.txt');
  await journal.move(TASK, h, g);
  const result = await undone();
  // The undo came after the move: it moved h back, then put g back from the trash.
  expect(result.skipped).toEqual([]);
  expect(read(g)).toBe(USER);
  expect(read(h)).toBe('other');
});

it('an undo restoring a trashed file just after a write checked it was absent: the file is not overwritten', async () => {
  const g = path.join(ws, 'g.txt');
  fs.writeFileSync(g, USER);
  await journal.trash(TASK, g);
  const undone = undoAtCheckOf('g.txt');
  await journal.writeFile(TASK, g, Buffer.from('written by the model'));
  const result = await undone();
  expect(result.skipped).toEqual([]);
  expect(read(g)).toBe(USER);
  // Nothing left to undo, and undoing again keeps the user's file.
  expect(await journal.undo(TASK)).toEqual({ restored: [], skipped: [] });
  expect(read(g)).toBe(USER);
});

it('an undo during a long write of the same task waits for the write, then undoes it', async () => {
  const f = path.join(ws, 'big.bin');
  fs.writeFileSync(f, USER);
  const big = Buffer.alloc(32 * 1024 * 1024, 7);
  const order: string[] = [];
  let undo: Promise<UndoResult> | undefined;
  const open = fsp.open;
  // The undo is tapped once the write has begun writing its temp file beside the target.
  vi.spyOn(fsp, 'open').mockImplementation((async (p: fs.PathLike, ...rest: []) => {
    if (!undo && /\/\.errand-[0-9a-f]{12}\.tmp$/.test(String(p)) && String(p).startsWith('/proc/self/fd/'))
      undo = journal.undo(TASK).finally(() => order.push('undo'));
    return open(p, ...rest);
  }) as typeof fsp.open);
  await journal.writeFile(TASK, f, big).finally(() => order.push('write'));
  expect(undo, 'the undo was started during the write').toBeDefined();
  const result = await undo!;
  expect(order).toEqual(['write', 'undo']);
  expect(result).toEqual({ restored: [f], skipped: [] });
  expect(read(f)).toBe(USER);
  expect((await journal.changes(TASK)).map((c) => c.undone)).toEqual([true]);
});

it('a move whose destination appears after its check refuses instead of overwriting, and records no move', async () => {
  const from = path.join(ws, 'from.txt');
  const to = path.join(ws, 'to.txt');
  fs.writeFileSync(from, 'moved by the task');
  // Another program creates the destination right after the move looked at it.
  let appeared = false;
  const lstat = fsp.lstat;
  vi.spyOn(fsp, 'lstat').mockImplementation((async (p: fs.PathLike, ...rest: []) => {
    const r = lstat(p, ...rest);
    await r.catch(() => undefined);
    if (!appeared && String(p).endsWith('/to.txt')) {
      appeared = true;
      fs.writeFileSync(to, USER);
    }
    return r;
  }) as typeof fsp.lstat);
  await expect(journal.move(TASK, from, to)).rejects.toThrow(/appeared meanwhile/);
  expect(read(to)).toBe(USER);
  expect(read(from)).toBe('moved by the task');
  expect(await journal.changes(TASK)).toEqual([]);
});
