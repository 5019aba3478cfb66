// task.undo from two devices at once: the undos of a task take turns, so the second reads what the
// first undid and finds nothing left (an empty result and no event), instead of failing on every
// path the first had already restored, announcing that, and leaving an empty trash slot. A restore
// that does fail names the real paths (never the /proc/self/fd names the tools reach folders by)
// and leaves no trash slot that points at nothing.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness;
let ws: string;
beforeEach(async () => {
  h = await toolsHarness();
  ws = fs.realpathSync(h.ctx.paths.workspace);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await h.close();
});

/** A task that created w/conc.txt (and the folder w), with its changes announced. */
async function taskThatCreated(taskId: string): Promise<void> {
  const out = await h.run('fs_write', { path: 'w/conc.txt', content: 'made by the task' }, h.task({ taskId }));
  expect(out.isError, textOf(out)).toBe(false);
  await h.waitEvent('changes.updated', (e) => e.taskId === taskId && e.changes.length === 2);
}

/** The changes.updated events for `taskId`, once a later marker event has arrived (events come in order). */
let markers = 0;
async function announcedFor(taskId: string): Promise<number> {
  const markerTask = `task_marker_${++markers}`;
  await h.run('fs_write', { path: `${markerTask}.txt`, content: 'marker' }, h.task({ taskId: markerTask }));
  const marker = await h.waitEvent('changes.updated', (e) => e.taskId === markerTask);
  const before = h.events.slice(0, h.events.indexOf(marker));
  return before.filter((e) => e.kind === 'changes.updated' && e.taskId === taskId).length;
}

/** Every file and folder under the trash (an empty trash: []). */
const trashContents = (): string[] =>
  fs.existsSync(h.ctx.paths.trash) ? fs.readdirSync(h.ctx.paths.trash, { recursive: true }).map(String) : [];

it('two undos of one task at once: one restores everything, the other finds nothing left and says nothing', async () => {
  await taskThatCreated('task_conc');
  const announcedBefore = await announcedFor('task_conc');
  const results = await Promise.all([
    h.send('task.undo', { taskId: 'task_conc' }, { id: 'dev_phone', name: 'Phone' }),
    h.send('task.undo', { taskId: 'task_conc' }, { id: 'dev_laptop', name: 'Laptop' }),
  ]);
  const file = path.join(ws, 'w', 'conc.txt');
  expect(results).toEqual([
    { restored: [file, path.join(ws, 'w')], skipped: [] },
    { restored: [], skipped: [] },
  ]);
  expect(fs.existsSync(path.join(ws, 'w'))).toBe(false);
  // The created file went to the trash once, with its note: one slot, and it holds the file.
  const slots = fs.readdirSync(h.ctx.paths.trash);
  expect(slots).toHaveLength(1);
  expect(fs.readFileSync(path.join(h.ctx.paths.trash, slots[0], 'item', 'conc.txt'), 'utf8')).toBe('made by the task');
  // One changes.updated for the undo that did something; none for the one that found nothing.
  expect((await announcedFor('task_conc')) - announcedBefore).toBe(1);
  const { changes } = await h.send('task.changes', { taskId: 'task_conc' });
  expect(changes.map((c: { undone?: boolean }) => c.undone)).toEqual([true, true]);
});

it('a restore that fails names the real path and leaves no empty trash slot behind', async () => {
  await taskThatCreated('task_gone');
  const file = path.join(ws, 'w', 'conc.txt');
  // Another program removes the file at the last moment: after undo checked it, before it moved it.
  const rename = fsp.rename;
  vi.spyOn(fsp, 'rename').mockImplementation(async (from, to) => {
    if (String(to).includes(`${path.sep}item${path.sep}conc.txt`)) fs.rmSync(file);
    return rename(from, to);
  });
  const result = await h.send('task.undo', { taskId: 'task_gone' });
  // The folder the task made is empty now, so it is removed; the file is reported, by its real path.
  expect(result).toEqual({
    restored: [path.join(ws, 'w')],
    skipped: [{ path: file, reason: expect.stringContaining('could not be restored') }],
  });
  expect(result.skipped[0].reason).not.toContain('/proc/');
  expect(result.skipped[0].reason).toContain(`'${file}'`);
  expect(trashContents()).toEqual([]);
});
