// A wide ("allow for this task") grant of a plain read never reads what fs_read refuses: a file in the
// workspace hard-linked to one outside the allowed folders is asked about, showing that it has other
// links, and one linked there between the check and the start stops the command unrun. `cksum -c
// LIST` reads every file LIST names (coreutils 9.1), like md5sum -c: never covered by a wide grant.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { TaskToolContext } from '../../src/agent/tool-runtime.js';
import { shellActionClass, shellTool } from '../../src/tools/shell.js';
import { runDeciding, type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Run a shell call; if it asks for approval, answer `decision`. Says whether it asked. */
const shell = (input: Record<string, unknown>, task: TaskToolContext, decision: 'approve' | 'allow_task' | 'deny') =>
  runDeciding(h!, 'shell', input, task, decision);

const SECRET = 'OUTSIDE-ROOTS-PRIVATE-CONTENT';

/** A sandboxed harness with a private file outside the allowed folders and notes.txt in the workspace. */
async function workspaceWithSecret() {
  h = await toolsHarness({ config: { shell: { sandbox: 'auto' } } });
  expect(h.tools.sandbox.state.enabled).toBe(true);
  const ws = fs.realpathSync(h.ctx.paths.workspace);
  const secret = path.join(h.outside, 'private.txt');
  fs.writeFileSync(secret, `${SECRET}\n`);
  fs.writeFileSync(path.join(ws, 'notes.txt'), 'notes\n');
  return { ws, secret };
}

it('a grant for cat notes.txt does not cover cat of a hard link to a file outside; the approval says why', async () => {
  const { ws, secret } = await workspaceWithSecret();
  fs.linkSync(secret, path.join(ws, 'link.txt'));
  const task = h!.task({ taskId: 'task_links' });
  expect(textOf(await h!.run('fs_read', { path: 'link.txt' }, task))).toContain('hard links');

  expect((await shell({ argv: ['cat', 'notes.txt'] }, task, 'allow_task')).asked).toBe(true);
  // Still covered: another file with one name.
  fs.writeFileSync(path.join(ws, 'other.txt'), 'other\n');
  expect((await shell({ argv: ['cat', 'other.txt'] }, task, 'deny')).asked).toBe(false);

  const viaLink = await shell({ argv: ['cat', 'link.txt'] }, task, 'deny');
  expect(viaLink.asked, 'cat link.txt ran under the grant for cat notes.txt').toBe(true);
  expect(textOf(viaLink.out)).not.toContain(SECRET);
  const asked = h!.events.filter((e) => e.kind === 'approval.requested').at(-1);
  expect(asked?.kind === 'approval.requested' && asked.approval.action).toMatchObject({
    hardLinked: [path.join(ws, 'link.txt')],
  });
}, 60_000);

it('a file hard-linked outside between the check and the start stops a wide-granted cat unrun', async () => {
  const { ws, secret } = await workspaceWithSecret();
  const tools = h!.tools;
  const spec = shellTool({
    roots: tools.roots,
    sandbox: tools.sandbox,
    config: () => h!.ctx.config(),
    journal: tools.journal,
  });
  const prepared = await spec.prepare({ argv: ['cat', 'later.txt'] }, { taskId: 'task_race', callId: 'call_race' });
  // Covered by a grant for cat: later.txt is not there yet.
  expect(prepared.actionClass).toMatch(/^shell:\/\S*\/cat$/);
  fs.linkSync(secret, path.join(ws, 'later.txt'));
  const ran = prepared.execute(new AbortController().signal).then(
    (r) => textOf(r),
    (err: Error) => `refused: ${err.message}`,
  );
  const said = await ran;
  expect(said).not.toContain(SECRET);
  expect(said).toMatch(
    /^refused: "later\.txt" changed since this command was checked \(it is a file with 2 hard links.*nothing was run/,
  );
}, 60_000);

it('cksum -c LIST is never covered by a grant for cksum on a file', async () => {
  const inside = () => true;
  const cls = (argv: string[]) => shellActionClass(argv, true, inside);
  expect(cls(['cksum', 'b.txt'])).toBe(cls(['cksum', 'a.txt']));
  for (const check of [['-c'], ['--check'], ['--che'], ['-a', 'sha256', '-c'], ['-ac', 'sha256']])
    expect(cls(['cksum', ...check, 'list.txt']), check.join(' ')).not.toBe(cls(['cksum', 'a.txt']));

  const { ws, secret } = await workspaceWithSecret();
  const task = h!.task({ taskId: 'task_cksum' });
  fs.writeFileSync(path.join(ws, 'list.txt'), `${'0'.repeat(64)}  ${secret}\n`);
  expect((await shell({ argv: ['cksum', 'notes.txt'] }, task, 'allow_task')).asked).toBe(true);
  const viaList = await shell({ argv: ['cksum', '-a', 'sha256', '-c', 'list.txt'] }, task, 'deny');
  expect(viaList.asked, 'cksum -c list.txt ran under the grant for cksum notes.txt').toBe(true);
  expect(textOf(viaList.out)).not.toContain(secret);
}, 60_000);

it('tree -R (it runs tree again, writing 00Tree.html in each folder) is never covered by a grant for tree', () => {
  const cls = (argv: string[]) => shellActionClass(argv, true, () => true);
  expect(cls(['tree', '-L', '2', 'src'])).toBe(cls(['tree', 'docs']));
  expect(cls(['tree', '-R', '-H', '.', '-L', '2', 'docs'])).not.toBe(cls(['tree', 'docs']));
});
