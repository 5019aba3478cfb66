// A wide ("allow for this task") grant of a reader that walks folders (grep -r, rg) never covers a
// walk over a file with other hard links (another name may be outside the allowed folders; fs_read
// refuses such a file): the call is asked about, the approval naming the file, and one linked there
// between the check and the start stops the command unrun. Readers that only list names are unchanged.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { TaskToolContext } from '../../src/agent/tool-runtime.js';
import { hardLinkedUnder } from '../../src/tools/folder-hard-links.js';
import { walkedHardLinks } from '../../src/tools/plain-read-arguments.js';
import { Roots } from '../../src/tools/roots.js';
import { shellTool } from '../../src/tools/shell.js';
import { walksFolders } from '../../src/tools/walking-readers.js';
import { runDeciding, type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness | undefined;
const temps: string[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const t of temps.splice(0)) fs.rmSync(t, { recursive: true, force: true });
});

/** Run a shell call; if it asks for approval, answer `decision`. Says whether it asked. */
const shell = (input: Record<string, unknown>, task: TaskToolContext, decision: 'approve' | 'allow_task' | 'deny') =>
  runDeciding(h!, 'shell', input, task, decision);

const SECRET = 'OUTSIDE-ROOTS-PRIVATE-CONTENT';

/** A sandboxed harness: a private file outside the allowed folders; docs/ and plain/ in the workspace. */
async function workspaceWithSecret() {
  h = await toolsHarness({ config: { shell: { sandbox: 'auto' } } });
  expect(h.tools.sandbox.state.enabled).toBe(true);
  const ws = fs.realpathSync(h.ctx.paths.workspace);
  const secret = path.join(h.outside, 'private.txt');
  fs.writeFileSync(secret, `${SECRET}\n`);
  for (const dir of ['docs', 'plain', 'stash']) fs.mkdirSync(path.join(ws, dir));
  fs.writeFileSync(path.join(ws, 'docs', 'a.txt'), 'docs\n');
  fs.writeFileSync(path.join(ws, 'plain', 'b.txt'), 'plain\n');
  return { ws, secret };
}

const lastAsked = () => {
  const asked = h!.events.filter((e) => e.kind === 'approval.requested').at(-1);
  return asked?.kind === 'approval.requested' ? asked.approval.action : undefined;
};

it('which readers walk: grep -r in every spelling, egrep and fgrep too, and rg; not cat, ls -R, du, tree or fd', () => {
  for (const argv of [
    ['grep', '-r', 'x', 'd'],
    ['grep', '-nri', 'x'],
    ['grep', '--recursive', 'x'],
    ['grep', '--recur', 'x'],
    ['grep', '-d', 'recurse', 'x'],
    ['grep', '-drecurse', 'x'],
    ['grep', '-nd', 'rec', 'x'],
    ['grep', '--directories=recurse', 'x'],
    ['grep', '--dir', 'recurse', 'x'],
    ['grep', '-e', '--', '-r', 'x'],
    ['egrep', '-r', 'x'],
    ['fgrep', '--recursive', 'x'],
    ['rg', 'x'],
    ['rg', ''],
  ])
    expect(walksFolders(argv), argv.join(' ')).toBe(true);
  for (const argv of [
    ['grep', 'x', 'a.txt'],
    ['grep', '-d', 'skip', 'x', 'd'],
    ['grep', '--directories=read', 'x', 'a.txt'],
    ['cat', '-r'],
    ['ls', '-R'],
    ['du', '-a'],
    ['tree', 'd'],
    ['fd', 'x'],
    ['wc', '-l', 'a.txt'],
  ])
    expect(walksFolders(argv), argv.join(' ')).toBe(false);
});

it('a grant for grep -r does not cover grep -r over a folder holding a hard link to a file outside', async () => {
  const { ws, secret } = await workspaceWithSecret();
  const task = h!.task({ taskId: 'task_walk' });

  const first = await shell({ argv: ['grep', '-r', 'docs', 'docs'] }, task, 'allow_task');
  expect(first.asked).toBe(true);
  expect(textOf(first.out)).toContain('docs/a.txt');
  // Covered: the same program walking another folder without hard-linked files.
  expect((await shell({ argv: ['grep', '-r', 'plain', 'plain'] }, task, 'deny')).asked).toBe(false);

  const link = path.join(ws, 'stash', 'copy.txt');
  fs.linkSync(secret, link);
  for (const argv of [
    ['grep', '-r', 'OUTSIDE', 'stash'],
    ['grep', '--recursive', 'OUTSIDE', 'stash'],
    ['grep', '-d', 'recurse', 'OUTSIDE', 'stash'],
    ['grep', '--directories=recurse', 'OUTSIDE', 'stash'],
    // No folder given: it walks its working folder, which holds stash/.
    ['grep', '-r', 'OUTSIDE'],
  ]) {
    const viaWalk = await shell({ argv }, task, 'deny');
    expect(viaWalk.asked, `${argv.join(' ')} ran under the grant for grep -r docs docs`).toBe(true);
    expect(textOf(viaWalk.out)).not.toContain(SECRET);
    expect(lastAsked()).toMatchObject({ hardLinked: [link] });
  }
  // A reader that only lists names is still covered by its own grant: ls -R reads no file.
  expect((await shell({ argv: ['ls', '-R', 'docs'] }, task, 'allow_task')).asked).toBe(true);
  const listed = await shell({ argv: ['ls', '-R', 'stash'] }, task, 'deny');
  expect(listed.asked).toBe(false);
  expect(textOf(listed.out)).toContain('copy.txt');
}, 90_000);

it('rg with no path walks its working folder: a hard link anywhere in it keeps a grant for rg from covering it', async () => {
  const { ws, secret } = await workspaceWithSecret();
  const task = h!.task({ taskId: 'task_rg' });
  expect((await shell({ argv: ['rg', 'docs'] }, task, 'allow_task')).asked).toBe(true);
  expect((await shell({ argv: ['rg', 'plain'] }, task, 'deny')).asked).toBe(false);

  fs.mkdirSync(path.join(ws, 'plain', 'deep'));
  const link = path.join(ws, 'plain', 'deep', 'copy.txt');
  fs.linkSync(secret, link);
  const viaWalk = await shell({ argv: ['rg', 'OUTSIDE'] }, task, 'deny');
  expect(viaWalk.asked, 'rg OUTSIDE ran under the grant for rg docs').toBe(true);
  expect(textOf(viaWalk.out)).not.toContain(SECRET);
  expect(lastAsked()).toMatchObject({ hardLinked: [link] });
}, 90_000);

it('a file hard-linked outside into a walked folder between the check and the start stops a wide-granted grep -r unrun', async () => {
  const { ws, secret } = await workspaceWithSecret();
  const tools = h!.tools;
  const spec = shellTool({
    roots: tools.roots,
    sandbox: tools.sandbox,
    config: () => h!.ctx.config(),
    journal: tools.journal,
  });
  const prepared = await spec.prepare(
    { argv: ['grep', '-r', 'OUTSIDE', 'stash'] },
    { taskId: 'task_race', callId: 'call_race' },
  );
  // Covered by a grant for grep: stash/ holds no hard-linked file yet.
  expect(prepared.actionClass).toMatch(/^shell:\/\S*\/grep$/);
  const link = path.join(ws, 'stash', 'later.txt');
  fs.linkSync(secret, link);
  const said = await prepared.execute(new AbortController().signal).then(
    (r) => textOf(r),
    (err: Error) => `refused: ${err.message}`,
  );
  expect(said).not.toContain(SECRET);
  expect(said).toContain(`refused: "${link}" changed since this command was checked (it is a file with 2 hard links`);
  expect(said).toContain('nothing was run');
}, 60_000);

/** Real folders for the walk itself: a home (Errand's state, its workspace inside), a root above it. */
function walkFixture() {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-walk-')));
  temps.push(base);
  const home = path.join(base, 'home');
  const workspace = path.join(home, 'workspace');
  fs.mkdirSync(workspace, { recursive: true });
  const roots = new Roots({ home, workspace, configured: () => [base] });
  roots.init();
  return { base, home, workspace, roots };
}

it("the walk skips Errand's own state (hidden from commands) but not its workspace inside it", async () => {
  const { base, home, workspace, roots } = walkFixture();
  fs.writeFileSync(path.join(home, 'state.json'), '{}');
  fs.linkSync(path.join(home, 'state.json'), path.join(home, 'state.bak'));
  expect(await walkedHardLinks(['grep', '-r', 'x'], base, roots)).toEqual({ files: [], complete: true });

  fs.writeFileSync(path.join(workspace, 'w.txt'), 'w');
  fs.linkSync(path.join(workspace, 'w.txt'), path.join(base, 'w-again.txt'));
  const found = await walkedHardLinks(['grep', '-r', 'x'], base, roots);
  expect(found?.files.map((f) => f.path).sort()).toEqual(
    [path.join(base, 'w-again.txt'), path.join(workspace, 'w.txt')].sort(),
  );
  // A reader that does not walk looks at nothing.
  expect(await walkedHardLinks(['cat', 'w-again.txt'], base, roots)).toBeUndefined();
});

it('the walk follows no symbolic link and stops at its bound, saying it did', async () => {
  const { base } = walkFixture();
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-walk-out-'));
  temps.push(elsewhere);
  fs.writeFileSync(path.join(elsewhere, 'x'), 'x');
  fs.linkSync(path.join(elsewhere, 'x'), path.join(elsewhere, 'y'));
  const walked = path.join(base, 'walked');
  fs.mkdirSync(walked);
  fs.symlinkSync(elsewhere, path.join(walked, 'to-elsewhere'));
  for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(walked, `f${i}`), '');
  expect(await hardLinkedUnder([walked], () => false)).toEqual({ files: [], complete: true });
  expect(await hardLinkedUnder([walked], () => false, 10)).toEqual({ files: [], complete: false });
});
