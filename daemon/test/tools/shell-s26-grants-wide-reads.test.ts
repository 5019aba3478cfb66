// A plain-read ("wide") grant never reads outside the allowed folders through files no argument
// shows: `strings @FILE` (binutils reads more arguments from FILE), `diff DIR1 DIR2` (it reads the
// files in them by name, following links there), `jq 'import "../../x" as $d'` (a module anywhere).
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { TaskToolContext } from '../../src/agent/tool-runtime.js';
import { shellActionClass } from '../../src/tools/shell.js';
import { runDeciding, type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Run a shell call; if it asks for approval, answer `decision`. Says whether it asked. */
const shell = (input: Record<string, unknown>, task: TaskToolContext, decision: 'approve' | 'allow_task' | 'deny') =>
  runDeciding(h!, 'shell', input, task, decision);

const inside = () => true;
const cls = (argv: string[]) => shellActionClass(argv, true, inside);

it('strings @FILE (even after --) is never covered by a grant for strings on a file', () => {
  expect(cls(['strings', '@opts'])).not.toBe(cls(['strings', 'a.bin']));
  expect(cls(['strings', '--', '@opts'])).not.toBe(cls(['strings', 'a.bin']));
  expect(cls(['strings', '-a', 'b.bin'])).toBe(cls(['strings', 'a.bin']));
});

it('diff gets exact grants only: folders given to it are read by name, through links', () => {
  expect(cls(['diff', 'd1', 'd2'])).not.toBe(cls(['diff', 'a.txt', 'b.txt']));
  expect(cls(['cmp', 'c', 'd'])).toBe(cls(['cmp', 'a', 'b']));
});

it('jq gets exact grants only: its program may import a module from anywhere', () => {
  expect(cls(['jq', 'import "../../../x" as $d; $d', 'a.json'])).not.toBe(cls(['jq', '.', 'a.json']));
});

it('sandboxed, a grant for strings a.bin does not cover strings @FILE naming a file outside', async () => {
  h = await toolsHarness({ config: { shell: { sandbox: 'auto' } } });
  expect(h.tools.sandbox.state.enabled).toBe(true);
  const ws = fs.realpathSync(h.ctx.paths.workspace);
  const secret = path.join(h.outside, 'id_rsa');
  fs.writeFileSync(secret, 'PRIVATE-KEY-OUTSIDE-ROOTS\n');
  fs.writeFileSync(path.join(ws, 'a.bin'), 'hello-binary-strings\n');
  fs.writeFileSync(path.join(ws, 'b.txt'), 'b\n');
  const task = h.task({ taskId: 'task_wide' });

  expect((await shell({ argv: ['strings', 'a.bin'] }, task, 'allow_task')).asked).toBe(true);
  // Covered: the same program on another file in the allowed folders.
  const other = await shell({ argv: ['strings', 'b.txt'] }, task, 'deny');
  expect(other.asked).toBe(false);
  fs.writeFileSync(path.join(ws, 'opts'), `${secret}\n`);
  const viaResponseFile = await shell({ argv: ['strings', '@opts'] }, task, 'deny');
  expect(viaResponseFile.asked, 'strings @opts ran under the grant for strings a.bin').toBe(true);
  expect(textOf(viaResponseFile.out)).not.toContain('PRIVATE-KEY');
}, 30_000);

it('sandboxed, a grant for diff a.txt b.txt does not cover diff of two folders holding a link outside', async () => {
  h = await toolsHarness({ config: { shell: { sandbox: 'auto' } } });
  expect(h.tools.sandbox.state.enabled).toBe(true);
  const ws = fs.realpathSync(h.ctx.paths.workspace);
  const secret = path.join(h.outside, 'id_rsa');
  fs.writeFileSync(secret, 'PRIVATE-KEY-OUTSIDE-ROOTS\n');
  fs.writeFileSync(path.join(ws, 'a.txt'), 'a\n');
  fs.writeFileSync(path.join(ws, 'b.txt'), 'b\n');
  const task = h.task({ taskId: 'task_diff' });
  expect((await shell({ argv: ['diff', 'a.txt', 'b.txt'] }, task, 'allow_task')).asked).toBe(true);
  fs.mkdirSync(path.join(ws, 'd1'));
  fs.mkdirSync(path.join(ws, 'd2'));
  fs.symlinkSync(secret, path.join(ws, 'd1', 'x'));
  fs.writeFileSync(path.join(ws, 'd2', 'x'), 'y\n');
  const viaFolder = await shell({ argv: ['diff', 'd1', 'd2'] }, task, 'deny');
  expect(viaFolder.asked, 'diff d1 d2 ran under the grant for diff a.txt b.txt').toBe(true);
  expect(textOf(viaFolder.out)).not.toContain('PRIVATE-KEY');
}, 30_000);
