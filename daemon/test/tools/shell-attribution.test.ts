// A shell command's changes are what the command did, not what happened in its folder while it ran:
// files another task wrote, moved or deleted with the file tools meanwhile are never journaled as the
// command's (undoing the command leaves them alone), and neither are Errand's own temp files.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness | undefined;
let stopApproving: (() => void) | undefined;
afterEach(async () => {
  stopApproving?.();
  stopApproving = undefined;
  await h?.close();
  h = undefined;
});

/** Without a sandbox every shell call asks: approve each, as a phone would. */
function autoApprove(harness: ToolsHarness): void {
  const timer = setInterval(() => {
    for (const e of harness.events) {
      if (e.kind !== 'approval.requested' || (e as { done?: boolean }).done) continue;
      (e as { done?: boolean }).done = true;
      void harness
        .send('approval.decide', { approvalId: e.approval.id, hash: e.approval.hash, decision: 'approve' })
        .catch(() => undefined);
    }
  }, 10);
  stopApproving = () => clearInterval(timer);
}

const config = {
  shell: { sandbox: 'off' },
  policy: { rules: [{ tool: 'shell', match: 'bash', decision: 'allow' }] },
};
type Change = { op: string; path: string };
const until = async (cond: () => boolean, what: string) => {
  for (const end = Date.now() + 10_000; !cond(); await new Promise((r) => setTimeout(r, 10)))
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
};

describe('what a shell command is credited with', () => {
  it("another task's fs_write during a shell command is not the command's: not listed, and undoing the command leaves it", async () => {
    h = await toolsHarness({ config });
    autoApprove(h);
    const ws = fs.realpathSync(h.ctx.paths.workspace);
    const shellTask = h.task({ taskId: 'thr_a.task_shell' });
    const writer = h.task({ taskId: 'thr_b.task_writer' });
    const started = path.join(h.outside, 'started');
    // The command says when it runs (outside the folder it is judged on), then sleeps.
    const running = h.run(
      'shell',
      { argv: ['bash', '-c', `touch ${started} && sleep 1.5 && echo mine > mine.txt`] },
      shellTask,
    );
    await until(() => fs.existsSync(started), 'the command to start');
    const wrote = await h.run('fs_write', { path: 'w/other.txt', content: 'written by the other task\n' }, writer);
    expect(wrote.isError, textOf(wrote)).toBe(false);
    const out = await running;
    expect(out.isError, textOf(out)).toBe(false);
    expect(textOf(out)).toContain('file changes recorded for undo: 1 created');

    const other = path.join(ws, 'w', 'other.txt');
    const mine = (await h.send('task.changes', { taskId: shellTask.taskId })).changes as Change[];
    expect(mine.map((c) => [c.op, c.path])).toEqual([['create', path.join(ws, 'mine.txt')]]);
    const theirs = (await h.send('task.changes', { taskId: writer.taskId })).changes as Change[];
    expect(theirs.map((c) => [c.op, c.path])).toEqual([
      ['mkdir', path.join(ws, 'w')],
      ['create', other],
    ]);

    const undo = await h.send('task.undo', { taskId: shellTask.taskId });
    expect(undo.skipped).toEqual([]);
    expect(undo.restored).toEqual([path.join(ws, 'mine.txt')]);
    expect(fs.readFileSync(other, 'utf8')).toBe('written by the other task\n');
  }, 30_000);

  it("a folder another task moves or deletes during a command is not the command's either; Errand's temp files are never recorded", async () => {
    h = await toolsHarness({ config });
    autoApprove(h);
    const ws = fs.realpathSync(h.ctx.paths.workspace);
    fs.mkdirSync(path.join(ws, 'tree', 'deep'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'tree', 'deep', 'a.txt'), 'a');
    fs.mkdirSync(path.join(ws, 'bin'));
    fs.writeFileSync(path.join(ws, 'bin', 'b.txt'), 'b');
    const shellTask = h.task({ taskId: 'thr_a.task_shell2' });
    const other = h.task({ taskId: 'thr_b.task_mover' });
    const started = path.join(h.outside, 'started2');
    const running = h.run('shell', { argv: ['bash', '-c', `touch ${started} && sleep 1.5`] }, shellTask);
    await until(() => fs.existsSync(started), 'the command to start');
    expect((await h.run('fs_move', { from: 'tree', to: 'moved/tree' }, other)).isError).toBe(false);
    expect((await h.run('fs_delete', { path: 'bin' }, other)).isError).toBe(false);
    const out = await running;
    expect(textOf(out)).toContain(`no file changes under ${ws}`);
    expect((await h.send('task.changes', { taskId: shellTask.taskId })).changes).toEqual([]);
    const undo = await h.send('task.undo', { taskId: shellTask.taskId });
    expect(undo).toEqual({ restored: [], skipped: [] });
    expect(fs.readFileSync(path.join(ws, 'moved', 'tree', 'deep', 'a.txt'), 'utf8')).toBe('a');
  }, 30_000);
});
