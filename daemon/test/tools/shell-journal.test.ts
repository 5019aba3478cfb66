// Shell commands are undoable: the files under the command's folder are kept before it runs and
// compared after it ends (however it ends); what it created, modified and deleted is journaled, so
// task.changes lists it and task.undo restores exact bytes. A folder over the bounds is not
// snapshotted, and the result says so. Links are never followed; Errand's home folder is skipped.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness;
let stopApproving: (() => void) | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  stopApproving?.();
  stopApproving = undefined;
  cleanup?.();
  cleanup = undefined;
  await h?.close();
});

/** Without a sandbox every shell call asks: approve each, as a phone would. */
function autoApprove(): void {
  const timer = setInterval(() => {
    for (const e of h.events) {
      if (e.kind !== 'approval.requested' || (e as { done?: boolean }).done) continue;
      (e as { done?: boolean }).done = true;
      void h
        .send('approval.decide', { approvalId: e.approval.id, hash: e.approval.hash, decision: 'approve' })
        .catch(() => undefined);
    }
  }, 10);
  stopApproving = () => clearInterval(timer);
}

const config = (extra: Record<string, any> = {}) => ({
  shell: { sandbox: 'off', ...extra },
  policy: { rules: [{ tool: 'shell', match: 'bash', decision: 'allow' }] },
});
const TOO_LARGE = 'changes made by this command cannot be undone (folder too large to snapshot)';

describe('shell commands and undo', () => {
  it('journals the files a command created, modified and deleted; undo restores exact bytes and removes what it created', async () => {
    h = await toolsHarness({ config: config() });
    autoApprove();
    const ws = fs.realpathSync(h.ctx.paths.workspace);
    const modified = crypto.randomBytes(5000); // not valid UTF-8: exact bytes matter
    const deleted = crypto.randomBytes(3000);
    fs.writeFileSync(path.join(ws, 'modify.bin'), modified);
    fs.chmodSync(path.join(ws, 'modify.bin'), 0o640);
    fs.writeFileSync(path.join(ws, 'delete.bin'), deleted);
    fs.chmodSync(path.join(ws, 'delete.bin'), 0o600);
    fs.writeFileSync(path.join(ws, 'untouched.txt'), 'same');
    const taskId = 'thr_s.task_shell';
    const out = await h.run(
      'shell',
      {
        argv: ['bash', '-c', 'mkdir sub && echo new > sub/created.txt && printf changed > modify.bin && rm delete.bin'],
      },
      h.task({ taskId }),
    );
    expect(out.isError, textOf(out)).toBe(false);
    expect(textOf(out)).toContain('file changes recorded for undo: 1 created, 1 modified, 1 deleted, 1 folder created');
    expect(out.output).toContain('file changes recorded for undo');
    expect(fs.readFileSync(path.join(ws, 'modify.bin'), 'utf8')).toBe('changed');
    expect(fs.existsSync(path.join(ws, 'delete.bin'))).toBe(false);

    const expected = [
      ['mkdir', path.join(ws, 'sub')],
      ['create', path.join(ws, 'sub', 'created.txt')],
      ['write', path.join(ws, 'modify.bin')],
      ['trash', path.join(ws, 'delete.bin')],
    ];
    const update = await h.waitEvent('changes.updated', (e) => e.taskId === taskId);
    expect(update.changes.map((c) => [c.op, c.path])).toEqual(expected);
    const { changes } = await h.send('task.changes', { taskId });
    expect(changes.map((c: { op: string; path: string }) => [c.op, c.path])).toEqual(expected);

    const result = await h.send('task.undo', { taskId });
    expect(result.skipped).toEqual([]);
    expect(Buffer.compare(fs.readFileSync(path.join(ws, 'modify.bin')), modified)).toBe(0);
    expect(fs.statSync(path.join(ws, 'modify.bin')).mode & 0o777).toBe(0o640);
    expect(Buffer.compare(fs.readFileSync(path.join(ws, 'delete.bin')), deleted)).toBe(0);
    expect(fs.statSync(path.join(ws, 'delete.bin')).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(ws, 'untouched.txt'), 'utf8')).toBe('same');
    expect(fs.readdirSync(ws).sort()).toEqual(['delete.bin', 'modify.bin', 'untouched.txt']);
    const after = await h.send('task.changes', { taskId });
    expect(after.changes.every((c: { undone?: boolean }) => c.undone)).toBe(true);
  });

  it('a file changed by the user after the command is left alone by undo, and reported', async () => {
    h = await toolsHarness({ config: config() });
    autoApprove();
    const ws = fs.realpathSync(h.ctx.paths.workspace);
    fs.writeFileSync(path.join(ws, 'a.txt'), 'A0');
    fs.writeFileSync(path.join(ws, 'b.txt'), 'B0');
    await h.run(
      'shell',
      { argv: ['bash', '-c', 'echo A1 > a.txt; echo B1 > b.txt'] },
      h.task({ taskId: 'task_conflict' }),
    );
    fs.writeFileSync(path.join(ws, 'b.txt'), 'user edit');
    const result = await h.send('task.undo', { taskId: 'task_conflict' });
    expect(fs.readFileSync(path.join(ws, 'a.txt'), 'utf8')).toBe('A0');
    expect(fs.readFileSync(path.join(ws, 'b.txt'), 'utf8')).toBe('user edit');
    expect(result.skipped).toEqual([
      { path: path.join(ws, 'b.txt'), reason: expect.stringMatching(/changed since the task/) },
    ]);
  });

  it('records the changes of a command killed at the time limit', async () => {
    h = await toolsHarness({ config: config({ timeoutSeconds: 1 }) });
    autoApprove();
    const ws = fs.realpathSync(h.ctx.paths.workspace);
    const out = await h.run(
      'shell',
      { argv: ['bash', '-c', 'echo partial > late.txt; sleep 30'] },
      h.task({ taskId: 'task_timeout' }),
    );
    expect(textOf(out)).toContain('killed after the 1s time limit');
    const { changes } = await h.send('task.changes', { taskId: 'task_timeout' });
    expect(changes.map((c: { op: string; path: string }) => [c.op, c.path])).toEqual([
      ['create', path.join(ws, 'late.txt')],
    ]);
    await h.send('task.undo', { taskId: 'task_timeout' });
    expect(fs.existsSync(path.join(ws, 'late.txt'))).toBe(false);
  });

  it('a folder over 2,000 files is not snapshotted, and the result and the step output say its changes cannot be undone', async () => {
    h = await toolsHarness({ config: config() });
    autoApprove();
    const ws = fs.realpathSync(h.ctx.paths.workspace);
    const big = path.join(ws, 'big');
    fs.mkdirSync(big);
    for (let i = 0; i < 2001; i++) fs.writeFileSync(path.join(big, `f${i}.txt`), `${i}`);
    const out = await h.run(
      'shell',
      { argv: ['bash', '-c', 'echo x > made.txt; echo y > f0.txt'], cwd: 'big' },
      h.task({ taskId: 'task_big' }),
    );
    expect(out.isError, textOf(out)).toBe(false);
    expect(textOf(out)).toContain(TOO_LARGE);
    expect(out.output).toContain(TOO_LARGE);
    expect(out.summary).toContain('cannot be undone');
    expect((await h.send('task.changes', { taskId: 'task_big' })).changes).toEqual([]);
    await h.send('task.undo', { taskId: 'task_big' });
    expect(fs.readFileSync(path.join(big, 'made.txt'), 'utf8')).toBe('x\n');

    // Exactly 2,000 files: within the bound, undoable.
    fs.rmSync(path.join(big, 'made.txt'));
    fs.rmSync(path.join(big, 'f2000.txt'));
    expect(fs.readdirSync(big)).toHaveLength(2000);
    const fits = await h.run(
      'shell',
      { argv: ['bash', '-c', 'echo z > f1.txt'], cwd: 'big' },
      h.task({ taskId: 'task_fits' }),
    );
    expect(textOf(fits)).toContain('file changes recorded for undo: 1 modified');
    await h.send('task.undo', { taskId: 'task_fits' });
    expect(fs.readFileSync(path.join(big, 'f1.txt'), 'utf8')).toBe('1');
    expect(fs.readFileSync(path.join(big, 'f0.txt'), 'utf8')).toBe('y\n'); // the unrecorded change stays
  });

  it('a folder over the byte bound is not snapshotted either', async () => {
    h = await toolsHarness({ config: config(), tools: { shellUndoLimits: { maxFiles: 2000, maxBytes: 1000 } } });
    autoApprove();
    const ws = fs.realpathSync(h.ctx.paths.workspace);
    fs.writeFileSync(path.join(ws, 'large.bin'), crypto.randomBytes(1001));
    const out = await h.run('shell', { argv: ['bash', '-c', 'rm large.bin'] }, h.task({ taskId: 'task_bytes' }));
    expect(textOf(out)).toContain(TOO_LARGE);
    expect((await h.send('task.changes', { taskId: 'task_bytes' })).changes).toEqual([]);
  });

  it("never follows links out of the folder, and skips Errand's home folder even when a root contains it", async () => {
    h = await toolsHarness({ config: config() });
    const parent = path.dirname(h.home); // holds home/ and outside/
    h.setConfig((raw) => {
      raw.roots = [parent];
    });
    autoApprove();
    // h.outside is inside this root now: the link leads to a folder outside every root instead.
    const away = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-away-')));
    cleanup = () => fs.rmSync(away, { recursive: true, force: true });
    const outsideFile = path.join(away, 'linked.txt');
    fs.writeFileSync(outsideFile, 'outside');
    fs.mkdirSync(path.join(parent, 'proj'));
    fs.symlinkSync(away, path.join(parent, 'proj', 'link'));
    const privateFile = path.join(h.home, 'private-note.txt');
    const script = `echo changed > proj/link/linked.txt; echo private > ${privateFile}; echo mine > proj/mine.txt`;
    const out = await h.run('shell', { argv: ['bash', '-c', script], cwd: parent }, h.task({ taskId: 'task_links' }));
    expect(out.isError, textOf(out)).toBe(false);
    const { changes } = await h.send('task.changes', { taskId: 'task_links' });
    expect(changes.map((c: { op: string; path: string }) => [c.op, c.path])).toEqual([
      ['create', path.join(parent, 'proj', 'mine.txt')],
    ]);
    await h.send('task.undo', { taskId: 'task_links' });
    expect(fs.existsSync(path.join(parent, 'proj', 'mine.txt'))).toBe(false);
    expect(fs.readFileSync(outsideFile, 'utf8')).toBe('changed\n');
    expect(fs.readFileSync(privateFile, 'utf8')).toBe('private\n');
  });
});
