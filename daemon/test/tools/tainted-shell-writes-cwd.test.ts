// A tainted task's shell command writes only in its working folder (sandboxed): everything it
// writes there is compared after it ends and noted as tainted, while a `cd ..` let it plant an
// AGENTS.md beside the folder, or copy a noted file, where nothing noted it. A clean task's
// command still writes anywhere in the allowed folders.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { runApproved, type ToolsHarness, toolsHarness } from './helpers.js';

let h: ToolsHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it('a tainted command cannot write outside its working folder; what it writes inside is noted; a clean one can', async () => {
  h = await toolsHarness({ config: { shell: { sandbox: 'auto' } } });
  expect(h.tools.sandbox.state.enabled).toBe(true);
  const ws = fs.realpathSync(path.join(h.home, 'workspace'));
  fs.mkdirSync(path.join(ws, 'sub'));
  const web = h.task({ taskId: 'task_web', threadId: 'thr_web', tainted: true });
  const plant = await runApproved(
    h,
    'shell',
    { argv: ['bash', '-c', 'echo planted > here.md; cd .. && echo planted > AGENTS.md'], cwd: 'sub' },
    web,
  );
  expect(plant.state).not.toBe('denied');
  expect(fs.existsSync(path.join(ws, 'AGENTS.md'))).toBe(false);
  expect(fs.readFileSync(path.join(ws, 'sub', 'here.md'), 'utf8')).toBe('planted\n');
  // What it wrote in its folder is noted: a later reader is tainted.
  const later = h.task({ taskId: 'task_later', threadId: 'thr_later' });
  expect((await h.run('fs_read', { path: 'sub/here.md' }, later)).tainted).toBe(true);

  const clean = h.task({ taskId: 'task_clean', threadId: 'thr_clean' });
  const write = await runApproved(
    h,
    'shell',
    { argv: ['bash', '-c', 'cd .. && echo mine > notes.md'], cwd: 'sub' },
    clean,
  );
  expect(write.state).toBe('completed');
  expect(fs.readFileSync(path.join(ws, 'notes.md'), 'utf8')).toBe('mine\n');
}, 120_000);
