// A name the model gives a new file or folder (fs_write, fs_mkdir, fs_move, missing parent folders
// too) may not hold a control character or a mark that reorders or hides characters: outside
// Errand "bidi\u202etxt.exe" reads "bidiexe.txt". The memory tool's rule, one definition. Names that
// already exist keep working, and other scripts and symbols are fine.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness;
beforeAll(async () => {
  h = await toolsHarness();
});
afterAll(async () => {
  await h?.close();
});
const ws = () => h.tools.roots.workspace;
const refusal =
  /Refused: a new name holds an invisible, direction-changing or control character \((U\+[0-9A-F]{4}(, )?)+\).*Nothing was created/s;

it('fs_write, fs_mkdir and fs_move refuse such new names and create nothing', async () => {
  const before = fs.readdirSync(ws()).sort();
  const calls: Array<[string, Record<string, unknown>, string]> = [
    ['fs_write', { path: 'bidi\u202etxt.exe', content: 'x' }, 'U+202E'],
    ['fs_write', { path: 'nl\nname.txt', content: 'x' }, 'U+000A'],
    ['fs_write', { path: 'esc\u001b[31m.txt', content: 'x' }, 'U+001B'],
    ['fs_write', { path: 'new\u200bdir/file.txt', content: 'x' }, 'U+200B'],
    ['fs_mkdir', { path: 'a\u2066b' }, 'U+2066'],
    ['fs_mkdir', { path: 'plain/\ufeffx' }, 'U+FEFF'],
  ];
  for (const [tool, input, mark] of calls) {
    const r = await h.run(tool, input);
    expect(r.isError, `${tool} ${JSON.stringify(input)}`).toBe(true);
    expect(textOf(r)).toMatch(refusal);
    expect(textOf(r)).toContain(mark);
  }
  fs.writeFileSync(path.join(ws(), 'report.txt'), 'x');
  const moved = await h.run('fs_move', { from: 'report.txt', to: 'report\u202eexe.txt' });
  expect(textOf(moved)).toMatch(refusal);
  expect(fs.readdirSync(ws()).sort()).toEqual([...before, 'report.txt'].sort());
});

it('plain names in any script are created; names that already exist keep working', async () => {
  expect((await h.run('fs_write', { path: 'Zürich – notes ☕/日本.md', content: 'x' })).isError).toBe(false);
  expect((await h.run('fs_mkdir', { path: 'Ελληνικά' })).isError).toBe(false);
  // A folder the user named with such a mark: files in it can be written, and it can be moved from.
  const odd = path.join(ws(), 'odd\u202edir');
  fs.mkdirSync(odd);
  expect((await h.run('fs_write', { path: 'odd\u202edir/a.txt', content: 'x' })).isError).toBe(false);
  expect((await h.run('fs_write', { path: 'odd\u202edir/a.txt', content: 'y' })).isError).toBe(false);
  expect((await h.run('fs_move', { from: 'odd\u202edir', to: 'odd-dir' })).isError).toBe(false);
  expect(fs.readFileSync(path.join(ws(), 'odd-dir/a.txt'), 'utf8')).toBe('y');
});
