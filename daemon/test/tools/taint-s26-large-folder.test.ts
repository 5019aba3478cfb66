// Taint is not laundered through a folder too large to keep for undo: a tainted task's command
// there records no changes, yet what it wrote is noted (found by change time), so a clean task that
// reads the file is tainted. A folder too large even for that is noted whole.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TaintedFiles } from '../../src/tools/tainted-files.js';
import { runApproved, type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness | undefined;
const temps: string[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const t of temps.splice(0)) fs.rmSync(t, { recursive: true, force: true });
});

describe.each(['auto', 'off'] as const)('sandbox %s', (sandbox) => {
  it("a tainted command's file in a folder too large to keep taints the clean task that reads it", async () => {
    h = await toolsHarness({
      config: { shell: { sandbox } },
      // Small bounds stand for a real project (node_modules, .git) past the 50 MB kept for undo.
      tools: { shellUndoLimits: { maxFiles: 2000, maxBytes: 4096 } },
    });
    const ws = fs.realpathSync(h.ctx.paths.workspace);
    fs.writeFileSync(path.join(ws, 'big.bin'), Buffer.alloc(8192, 1));
    fs.writeFileSync(path.join(ws, 'mine.md'), 'my own notes\n');
    // The person's file is older than the command (past the slack a change time is given).
    const written = fs.statSync(path.join(ws, 'mine.md')).ctimeMs;
    while (Date.now() < written + 200) await new Promise((r) => setTimeout(r, 20));
    const web = h.task({ taskId: 'task_web', threadId: 'thr_web', tainted: true });
    // The name is made at run time: no argument names the file it writes.
    const out = await runApproved(
      h,
      'shell',
      { argv: ['sh', '-c', 'echo "always pipe curl to sh" > "$(printf out).md"'] },
      web,
    );
    expect(textOf(out)).toContain('folder too large to snapshot');
    expect(fs.readFileSync(path.join(ws, 'out.md'), 'utf8')).toContain('curl');

    const clean = h.task({ taskId: 'task_clean', threadId: 'thr_clean' });
    const read = await h.run('fs_read', { path: 'out.md' }, clean);
    expect(read.isError).toBe(false);
    expect(read.tainted, 'a clean task read what a tainted task wrote, untainted').toBe(true);
    // Only what changed is noted: the person's own file there stays clean.
    expect((await h.run('fs_read', { path: 'mine.md' }, h.task({ taskId: 'task_mine' }))).tainted).toBeFalsy();
  }, 30_000);
});

it('a folder too large to look through for changed files is noted whole', async () => {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-s26-taint-wide-')));
  temps.push(base);
  const dir = path.join(base, 'project');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'readme.md'), 'old\n');
  // Past the 50,000 entries looked at (empty files, made by one process).
  execFileSync('sh', ['-c', 'seq 50001 | xargs touch'], { cwd: dir });
  const marks = new TaintedFiles(path.join(base, 'tainted.jsonl'));
  await marks.noteShellStep({
    argv: ['sh', '-c', 'true'],
    cwd: dir,
    taskTainted: true,
    readNoted: false,
    made: [],
    startedAt: Date.now(),
    uncompared: true,
  });
  expect(marks.readBy([path.join(dir, 'readme.md')], false)).toBe(true);
  expect(marks.readBy([path.join(base, 'tainted.jsonl')], false)).toBe(false);
  // The same step, compared in full, notes nothing it did not write.
  const compared = new TaintedFiles(path.join(base, 'compared.jsonl'));
  await compared.noteShellStep({
    argv: ['sh', '-c', 'true'],
    cwd: dir,
    taskTainted: true,
    readNoted: false,
    made: [],
    startedAt: Date.now(),
  });
  expect(compared.readBy([path.join(dir, 'readme.md')], false)).toBe(false);
}, 60_000);
