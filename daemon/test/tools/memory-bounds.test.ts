// Memory is bounded as a whole (500 files, 5 MB), not only per file: the model's creates and edits,
// and the person's, stop there with words that say what to do. The phone's and the CLI's list is
// sorted and says when it is cut (total, truncated), and the model's folder listing counts what it
// leaves out.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_MEMORY_FILES, MAX_MEMORY_TOTAL_BYTES } from '../../../shared/src/index.js';
import { type CliCommand, parseCommandArgs } from '../../src/cli/command.js';
import { memoryCommand } from '../../src/cli/commands/memory.js';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness;
afterEach(async () => {
  await h?.close();
});

const mem = (input: Record<string, unknown>, task?: Parameters<ToolsHarness['run']>[2]) => h.run('memory', input, task);

/** `count` notes of `bytes` each in memory/<dir>/, written straight to disk (as if from before the bound). */
function fill(dir: string, count: number, bytes = 10, from = 0): void {
  const at = path.join(h.ctx.paths.memory, dir);
  fs.mkdirSync(at, { recursive: true });
  for (let i = from; i < from + count; i++)
    fs.writeFileSync(path.join(at, `${String(i).padStart(5, '0')}.md`), 'x'.repeat(bytes));
}

async function cli(cmd: CliCommand, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const parsed = parseCommandArgs(cmd, argv);
  const code = await cmd.run(
    { values: parsed.values, positionals: parsed.positionals, home: h.home },
    { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, interactive: false, confirm: async () => true },
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('memory bounds', () => {
  it('the model cannot create a file past the bound on the number of files; edits still work', async () => {
    h = await toolsHarness();
    expect(MAX_MEMORY_FILES).toBe(500);
    fill('n', MAX_MEMORY_FILES - 1);
    let r = await mem({ command: 'create', path: '/memories/last.md', file_text: 'the 500th' });
    expect(r.isError).toBe(false);
    r = await mem({ command: 'create', path: '/memories/one-more.md', file_text: 'the 501st' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('memory already holds 500 files; it holds at most 500');
    expect(textOf(r)).toContain('Delete notes that are no longer needed');
    expect(fs.existsSync(path.join(h.ctx.paths.memory, 'one-more.md'))).toBe(false);
    // A rename or an edit adds no file.
    r = await mem({ command: 'str_replace', path: '/memories/last.md', old_str: '500th', new_str: 'last' });
    expect(r.isError).toBe(false);
    r = await mem({ command: 'rename', old_path: '/memories/last.md', new_path: '/memories/kept/last.md' });
    expect(r.isError).toBe(false);
    // Making room lets the create through.
    expect((await mem({ command: 'delete', path: '/memories/n/00000.md' })).isError).toBe(false);
    expect((await mem({ command: 'create', path: '/memories/one-more.md', file_text: 'now' })).isError).toBe(false);
  });

  it('the model cannot grow memory past its total size; a change that shrinks it is allowed when over', async () => {
    h = await toolsHarness();
    expect(MAX_MEMORY_TOTAL_BYTES).toBe(5_000_000);
    fill('big', 50, 99_000); // 4,950,000 bytes
    let r = await mem({ command: 'create', path: '/memories/a.md', file_text: 'y'.repeat(60_000) });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('memory would hold 5,010,000 bytes in all; it holds at most 5,000,000');
    expect(fs.existsSync(path.join(h.ctx.paths.memory, 'a.md'))).toBe(false);
    r = await mem({ command: 'create', path: '/memories/a.md', file_text: 'q'.repeat(1000) + 'y'.repeat(49_000) });
    expect(r.isError).toBe(false);
    // Exactly at the bound; one more byte anywhere is refused.
    r = await mem({ command: 'insert', path: '/memories/a.md', insert_line: 0, insert_text: '' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('5,000,001 bytes');

    // Over the bound from before it existed: edits that shrink go through, growth does not.
    fill('old', 1, 99_000, 100);
    r = await mem({ command: 'str_replace', path: '/memories/a.md', old_str: 'q'.repeat(1000), new_str: '' });
    expect(r.isError).toBe(false);
    r = await mem({ command: 'insert', path: '/memories/a.md', insert_line: 0, insert_text: 'z' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('it holds at most 5,000,000');
  });

  it('a change that waited for its approval is refused if memory filled up meanwhile', async () => {
    h = await toolsHarness();
    fill('n', MAX_MEMORY_FILES - 1);
    const task = h.task({ tainted: true });
    const running = mem({ command: 'create', path: '/memories/late.md', file_text: 'late' }, task);
    const asked = await h.waitEvent('approval.requested');
    fill('m', 1);
    await h.send('approval.decide', { approvalId: asked.approval.id, hash: asked.approval.hash, decision: 'approve' });
    const r = await running;
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('memory already holds 500 files');
    expect(fs.existsSync(path.join(h.ctx.paths.memory, 'late.md'))).toBe(false);
  });

  it('the phone and the CLI are held to the same bound, with words for the person', async () => {
    h = await toolsHarness({ listen: true });
    fill('n', MAX_MEMORY_FILES);
    await expect(h.send('memory.put', { path: '/memories/new.md', text: 'x' })).rejects.toMatchObject({
      code: 'too_large',
      message: expect.stringContaining('Delete notes you no longer need (Settings → Memory, or errand memory rm)'),
    });
    expect(fs.existsSync(path.join(h.ctx.paths.memory, 'new.md'))).toBe(false);
    // Replacing an existing note adds no file.
    expect((await h.send('memory.put', { path: '/memories/n/00001.md', text: 'short' })).entry.bytes).toBe(5);
    const edit = await cli(memoryCommand, ['edit', 'other.md', '--text', 'x']);
    expect(edit.code).toBe(1);
    expect(edit.err).toContain('memory already holds 500 files');
  });

  it('memory.list is sorted, cut at 1,000 and says so; the CLI says "showing N of M"; clear counts all', async () => {
    h = await toolsHarness({ listen: true });
    // The rule note's folder comes last on disk but first by name: the list never depends on readdir order.
    fill('n', 1152, 10);
    fill('a-rules', 1, 10);
    const list = await h.send('memory.list', {});
    expect(list.total).toBe(1153);
    expect(list.truncated).toBe(true);
    expect(list.entries).toHaveLength(1000);
    const want = ['/memories/a-rules/00000.md'];
    for (let i = 0; i < 999; i++) want.push(`/memories/n/${String(i).padStart(5, '0')}.md`);
    expect(list.entries.map((e: { path: string }) => e.path)).toEqual(want);

    const out = await cli(memoryCommand, ['list']);
    expect(out.code).toBe(0);
    expect(out.out.split('\n').at(-1)).toBe(
      'Showing 1,000 of 1,153 memory files (the first by name). Memory holds at most 500: the agent adds none until some are deleted (errand memory rm <path>, or errand memory clear).',
    );
    expect(JSON.parse((await cli(memoryCommand, ['list', '--json'])).out)).toMatchObject({
      total: 1153,
      truncated: true,
    });

    // A list that is not cut says nothing more.
    expect(await h.send('memory.clear', {})).toEqual({ removed: 1153 });
    fill('', 2);
    expect(await h.send('memory.list', {})).toMatchObject({ total: 2, truncated: false });
    expect((await cli(memoryCommand, ['list'])).out).not.toContain('Showing');
  });

  it("the model's folder listing says how many lines it left out", async () => {
    h = await toolsHarness();
    fill('n', 600);
    const r = await mem({ command: 'view', path: '/memories' });
    const text = textOf(r);
    // The folder's own line and 499 of its files are shown; 101 files are not.
    expect(text.split('\n').filter((l) => l.includes('\t/memories/'))).toHaveLength(500);
    expect(text.endsWith('\n(101 more not shown)')).toBe(true);
    fill('m', 2);
    expect(textOf(await mem({ command: 'view', path: '/memories/m' }))).not.toContain('more not shown');
  });
});
