// A task whose change list outweighs a whole event (1,600 files with long names): its changes.updated
// events stay small (the list is left out, with its length, and the client fetches it with
// task.changes), after the shell step that made the changes and after their undo, so every device
// hears of both. An undo that did its work answers with its result even when its notice cannot go
// out (the failure is logged).
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import type { ServerEvent } from '../../../shared/src/index.js';
import { MAX_EVENT_BYTES } from '../../src/store/journal.js';
import { MAX_CHANGES_EVENT_BYTES } from '../../src/tools/journal.js';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness | undefined;
let stopApproving: (() => void) | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  stopApproving?.();
  stopApproving = undefined;
  await h?.close();
  h = undefined;
});

/** Without a sandbox every shell call asks: approve each, as a phone would. */
function autoApprove(harness: ToolsHarness): void {
  const done = new Set<string>();
  const timer = setInterval(() => {
    for (const e of harness.events) {
      if (e.kind !== 'approval.requested' || done.has(e.approval.id)) continue;
      done.add(e.approval.id);
      void harness
        .send('approval.decide', { approvalId: e.approval.id, hash: e.approval.hash, decision: 'approve' })
        .catch(() => undefined);
    }
  }, 10);
  stopApproving = () => clearInterval(timer);
}

const LONG = 'n'.repeat(225);

type ChangesUpdated = Extract<ServerEvent, { kind: 'changes.updated' }>;
const updatesFor = (taskId: string): ChangesUpdated[] =>
  h!.events.filter((e): e is ChangesUpdated => e.kind === 'changes.updated' && e.taskId === taskId);

it('1,600 files made by one command: bounded events after the step and after the undo, which answers its result', async () => {
  h = await toolsHarness({
    config: { shell: { sandbox: 'off' }, policy: { rules: [{ tool: 'shell', match: 'bash', decision: 'allow' }] } },
  });
  autoApprove(h);
  const ws = fs.realpathSync(h.ctx.paths.workspace);
  const taskId = 'thr_many.task_many';
  const out = await h.run(
    'shell',
    // Long names: each change weighs ~400 bytes, so 1,600 of them are over a whole event's bound.
    { argv: ['bash', '-c', `mkdir many && cd many && for i in $(seq 1600); do : > "${LONG}$i"; done`] },
    h.task({ taskId }),
  );
  expect(out.isError, textOf(out)).toBe(false);
  expect(fs.readdirSync(path.join(ws, 'many'))).toHaveLength(1600);

  // After the step: an event without the list (over a whole event), with its length.
  const afterStep = await h.waitEvent('changes.updated', (e) => e.taskId === taskId, 20_000);
  expect(afterStep).toEqual({ kind: 'changes.updated', taskId, changes: [], count: 1601, omitted: true });
  const { changes } = await h.send('task.changes', { taskId });
  expect(changes).toHaveLength(1601);
  expect(Buffer.byteLength(JSON.stringify(changes))).toBeGreaterThan(MAX_EVENT_BYTES);

  const result = await h.send('task.undo', { taskId });
  expect(result.skipped).toEqual([]);
  expect(result.restored).toHaveLength(1601);
  expect(fs.existsSync(path.join(ws, 'many'))).toBe(false);
  await h.waitEvent('changes.updated', (e) => e.taskId === taskId && e !== afterStep);
  expect(updatesFor(taskId).map(({ changes: list, count, omitted }) => ({ list, count, omitted }))).toEqual([
    { list: [], count: 1601, omitted: true },
    { list: [], count: 1601, omitted: true },
  ]);
  const after = await h.send('task.changes', { taskId });
  expect(after.changes.every((c: { undone?: boolean }) => c.undone)).toBe(true);

  // A short list still travels whole, with its length.
  const small = 'thr_many.task_small';
  await h.run('fs_write', { path: 'one.txt', content: 'one' }, h.task({ taskId: small }));
  const update = await h.waitEvent('changes.updated', (e) => e.taskId === small);
  expect(update.count).toBe(1);
  expect(update.omitted).toBeUndefined();
  expect(update.changes.map((c) => c.path)).toEqual([path.join(ws, 'one.txt')]);
  for (const e of h.events)
    expect(Buffer.byteLength(JSON.stringify(e))).toBeLessThanOrEqual(MAX_CHANGES_EVENT_BYTES + 1024);
}, 120_000);

it('an undo whose changes.updated cannot be recorded still answers what it restored, and logs why', async () => {
  h = await toolsHarness();
  const ws = fs.realpathSync(h.ctx.paths.workspace);
  const taskId = 'thr_note.task_note';
  const out = await h.run('fs_write', { path: 'made.txt', content: 'made' }, h.task({ taskId }));
  expect(out.isError, textOf(out)).toBe(false);
  await h.waitEvent('changes.updated', (e) => e.taskId === taskId);
  const emit = h.ctx.emit.bind(h.ctx);
  vi.spyOn(h.ctx, 'emit').mockImplementation((e) =>
    e.kind === 'changes.updated' ? Promise.reject(new Error('the event log is full')) : emit(e),
  );
  const logged = vi.spyOn(h.ctx.log, 'error');

  const result = await h.send('task.undo', { taskId });
  expect(result).toEqual({ restored: [path.join(ws, 'made.txt')], skipped: [] });
  expect(fs.existsSync(path.join(ws, 'made.txt'))).toBe(false);
  expect(logged).toHaveBeenCalledWith(
    'the changes.updated event after an undo was not sent',
    expect.objectContaining({ taskId, error: 'the event log is full' }),
  );
});
