// fs_edit is bounded like fs_write: an input file over the read cap is refused before it is read, the
// result's size is known before it is built and refused over fs_write's cap (no V8 "Invalid string
// length", no 200 MB file from a 100 KB one), and one call replaces a bounded number of occurrences.
// What it does write is the file's own bytes with exactly the replacements made.
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
const file = (name: string) => path.join(h.tools.roots.workspace, name);

it('refuses an edit whose result would pass the fs_write cap, before building it', async () => {
  fs.writeFileSync(file('a.txt'), 'a'.repeat(100_000));
  const r = await h.run('fs_edit', { path: 'a.txt', old_text: 'a', new_text: 'b'.repeat(2000), replace_all: true });
  expect(r.isError).toBe(true);
  expect(textOf(r)).toMatch(/would make a\.txt 200,000,000 bytes; the limit is 20,971,520.*Nothing was changed/s);
  expect(fs.statSync(file('a.txt')).size).toBe(100_000);

  // Past V8's longest string, the same sentence (it used to be "Invalid string length").
  fs.writeFileSync(file('c.txt'), 'a'.repeat(1_000_000));
  const big = await h.run('fs_edit', {
    path: 'c.txt',
    old_text: 'a'.repeat(10),
    new_text: 'b'.repeat(10_000),
    replace_all: true,
  });
  expect(textOf(big)).toMatch(/would make c\.txt 1,000,000,000 bytes; the limit is 20,971,520/);
  expect(textOf(big)).not.toMatch(/Invalid string length/);
  expect(fs.statSync(file('c.txt')).size).toBe(1_000_000);
});

it('refuses an input file over the read cap by its size, without reading it', async () => {
  // Sparse: 60 MB of nothing on disk. Read whole, it was then refused as "binary".
  fs.writeFileSync(file('huge.log'), 'line\n');
  fs.truncateSync(file('huge.log'), 60 * 1024 * 1024);
  const r = await h.run('fs_edit', { path: 'huge.log', old_text: 'line', new_text: 'row' });
  expect(textOf(r)).toMatch(/huge\.log is 62,914,560 bytes; fs_edit changes files up to 52,428,800 bytes/);
});

it('replaces at most 100,000 occurrences in one call', async () => {
  fs.writeFileSync(file('many.txt'), 'a'.repeat(100_001));
  const r = await h.run('fs_edit', { path: 'many.txt', old_text: 'a', new_text: 'b', replace_all: true });
  expect(textOf(r)).toMatch(/appears more than 100,000 times.*replaces at most 100,000 at once.*Nothing was changed/s);
  expect(fs.readFileSync(file('many.txt'), 'utf8')).toBe('a'.repeat(100_001));
  fs.writeFileSync(file('many.txt'), 'a'.repeat(100_000));
  const ok = await h.run('fs_edit', { path: 'many.txt', old_text: 'a', new_text: 'bc', replace_all: true });
  expect(textOf(ok)).toMatch(/replaced 100000 occurrences/);
  expect(fs.readFileSync(file('many.txt'), 'utf8')).toBe('bc'.repeat(100_000));
});

it('writes exactly the replacements, in UTF-8, and leaves the other bytes as they were', async () => {
  // A Latin-1 byte (0xE9) that is not UTF-8 stays as it is; the replacement is UTF-8.
  const before = Buffer.concat([Buffer.from('café, '), Buffer.from([0xe9]), Buffer.from(' cafe; café.\n')]);
  fs.writeFileSync(file('u.txt'), before);
  const all = await h.run('fs_edit', { path: 'u.txt', old_text: 'café', new_text: 'thé ☕', replace_all: true });
  expect(textOf(all)).toMatch(/replaced 2 occurrences/);
  const expected = Buffer.concat([Buffer.from('thé ☕, '), Buffer.from([0xe9]), Buffer.from(' cafe; thé ☕.\n')]);
  expect(fs.readFileSync(file('u.txt')).equals(expected)).toBe(true);
  // One occurrence, with $ patterns taken literally.
  const one = await h.run('fs_edit', { path: 'u.txt', old_text: 'cafe', new_text: "$&$' $1" });
  expect(one.isError).toBe(false);
  expect(fs.readFileSync(file('u.txt')).includes(Buffer.from(" $&$' $1; "))).toBe(true);
  // Two occurrences without replace_all: refused with the count, as before.
  const two = await h.run('fs_edit', { path: 'u.txt', old_text: 'thé', new_text: 'tea' });
  expect(textOf(two)).toMatch(/appears 2 times in u\.txt/);
});
