// An exact "allow for this task" grant (bash run.sh, which sources lib.sh) lapses after any command
// that MAY have changed files, not only after one whose changes were recorded: a folder too large
// to keep for undo, or a command that could write outside its working folder (the other allowed
// folders when sandboxed, anywhere when not). A plain read (cat) changes nothing: no lapse. The
// step's note never says "no file changes" for what it could not compare.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskToolContext } from '../../src/agent/tool-runtime.js';
import { runDeciding, type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Run a shell call; if it asks for approval, answer `decision`. Says whether it asked. */
const shell = (input: Record<string, unknown>, task: TaskToolContext, decision: 'approve' | 'allow_task' | 'deny') =>
  runDeciding(h!, 'shell', input, task, decision);

/** A workspace whose run.sh sources lib.sh; `bash run.sh` allowed for the task. */
async function granted(opts: { sandbox: 'auto' | 'off'; big?: boolean; roots?: string[] }) {
  h = await toolsHarness({
    config: { shell: { sandbox: opts.sandbox }, ...(opts.roots ? { roots: opts.roots } : {}) },
    // Small bounds stand for a real project (node_modules, .git) past the 50 MB kept for undo.
    tools: { shellUndoLimits: { maxFiles: 2000, maxBytes: 4096 } },
  });
  if (opts.sandbox === 'auto') expect(h.tools.sandbox.state.enabled).toBe(true);
  const ws = fs.realpathSync(h.ctx.paths.workspace);
  fs.writeFileSync(path.join(ws, 'run.sh'), '. ./lib.sh\n');
  fs.writeFileSync(path.join(ws, 'lib.sh'), 'echo harmless\n');
  fs.mkdirSync(path.join(ws, 'sub'));
  if (opts.big) fs.writeFileSync(path.join(ws, 'big.bin'), Buffer.alloc(8192, 1));
  const task = h.task({ taskId: 'task_grant' });
  const first = await shell({ argv: ['bash', 'run.sh'] }, task, 'allow_task');
  expect(first.asked).toBe(true);
  expect(textOf(first.out)).toContain('harmless');
  return { ws, task };
}

const rewriteLib = (target: string) => ['sh', '-c', `printf 'echo EVIL > pwned.txt\\n' > ${target}`];

describe.each(['auto', 'off'] as const)('sandbox %s', (sandbox) => {
  it('a command approved once in a folder too large to keep for undo lapses the grant', async () => {
    const { ws, task } = await granted({ sandbox, big: true });
    const change = await shell({ argv: rewriteLib('lib.sh') }, task, 'approve');
    expect(change.asked).toBe(true);
    expect(textOf(change.out)).toContain('cannot be undone (folder too large to snapshot)');
    expect(textOf(change.out)).not.toContain('no file changes');
    expect(fs.readFileSync(path.join(ws, 'lib.sh'), 'utf8')).toContain('EVIL');

    const again = await shell({ argv: ['bash', 'run.sh'] }, task, 'deny');
    expect(again.asked, 'bash run.sh ran the changed lib.sh under the old grant').toBe(true);
    expect(fs.existsSync(path.join(ws, 'pwned.txt'))).toBe(false);
  });

  it('a command approved once that writes outside its folder (../lib.sh) lapses the grant; its note says so', async () => {
    const { ws, task } = await granted({ sandbox });
    const change = await shell({ argv: rewriteLib('../lib.sh'), cwd: 'sub' }, task, 'approve');
    expect(change.asked).toBe(true);
    expect(fs.readFileSync(path.join(ws, 'lib.sh'), 'utf8')).toContain('EVIL');
    const where = sandbox === 'off' ? 'anywhere: the sandbox is off' : 'the other allowed folders';
    expect(textOf(change.out)).toContain(
      `no file changes under ${path.join(ws, 'sub')}; changes it made outside ${path.join(ws, 'sub')} (${where}) are not compared`,
    );

    const again = await shell({ argv: ['bash', 'run.sh'] }, task, 'deny');
    expect(again.asked, 'bash run.sh ran the changed lib.sh under the old grant').toBe(true);
    expect(fs.existsSync(path.join(ws, 'pwned.txt'))).toBe(false);
  });

  it('a plain read approved once in a folder too large to keep does not lapse the grant', async () => {
    const { task } = await granted({ sandbox, big: true });
    const read = await shell({ argv: ['cat', 'lib.sh'] }, task, 'approve');
    expect(read.asked).toBe(true);
    const again = await shell({ argv: ['bash', 'run.sh'] }, task, 'deny');
    expect(again.asked).toBe(false);
    expect(textOf(again.out)).toContain('harmless');
  });
});

it('sandboxed in the only allowed folder, a command that changed nothing keeps the grant', async () => {
  const { task } = await granted({ sandbox: 'auto' });
  const quiet = await shell({ argv: ['bash', '-c', 'echo quiet'] }, task, 'approve');
  expect(quiet.asked).toBe(true);
  expect(textOf(quiet.out)).toContain('no file changes under');
  expect(textOf(quiet.out)).not.toContain('not compared');
  expect((await shell({ argv: ['bash', 'run.sh'] }, task, 'deny')).asked).toBe(false);
});

it('sandboxed with a second allowed folder, a command there may write in the workspace: the grant lapses', async () => {
  const extra = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-s26-extra-')));
  try {
    const { ws, task } = await granted({ sandbox: 'auto', roots: [extra] });
    const change = await shell({ argv: rewriteLib(path.join(ws, 'lib.sh')), cwd: extra }, task, 'approve');
    expect(change.asked).toBe(true);
    expect(fs.readFileSync(path.join(ws, 'lib.sh'), 'utf8')).toContain('EVIL');
    const again = await shell({ argv: ['bash', 'run.sh'] }, task, 'deny');
    expect(again.asked, 'bash run.sh ran the changed lib.sh under the old grant').toBe(true);
    expect(fs.existsSync(path.join(ws, 'pwned.txt'))).toBe(false);
  } finally {
    fs.rmSync(extra, { recursive: true, force: true });
  }
});
