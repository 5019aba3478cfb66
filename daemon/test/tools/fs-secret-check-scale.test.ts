// The check for a known secret in a file (secret-files.ts) runs on whole files, so it must hold up
// on big ordinary ones: a 130,000-line checksum list is searched, described and edited as before
// (the check once overflowed the stack there and failed the whole search). An edit of a file over
// fs_write's cap that does not grow it still works, and a secret on a line longer than what fs_read
// shows of a line is redacted before the cut, so its start never reaches the model.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

const KEY = 'sk-ant-api03-Zq7Xv9Lm2Np4Rs6Tu8Wx0Yz1Ab3Cd5Ef7Gh9Ij';

let h: ToolsHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it('a 130,000-line checksum list is searched, described and edited like any file', async () => {
  h = await toolsHarness({ config: { anthropic: { apiKey: KEY } } });
  const ws = h.tools.roots.workspace;
  const sums = Array.from({ length: 130_000 }, (_, i) => crypto.createHash('md5').update(String(i)).digest('hex'));
  fs.writeFileSync(path.join(ws, 'sums.md5'), `${sums.join('\n')}\n`);
  fs.writeFileSync(path.join(ws, 'notes.txt'), 'the needle is here\n');
  const search = await h.run('fs_search', { query: 'needle' });
  expect(search.isError, textOf(search)).toBeFalsy();
  expect(textOf(search)).toContain('notes.txt');
  const hit = await h.run('fs_search', { query: sums[77_777] });
  expect(textOf(hit)).toContain('sums.md5');
  const info = await h.run('fs_info', { path: 'sums.md5' });
  expect(info.isError, textOf(info)).toBeFalsy();
  const edit = await h.run('fs_edit', { path: 'sums.md5', old_text: sums[5], new_text: 'replaced' });
  expect(edit.isError, textOf(edit)).toBeFalsy();
  expect(fs.readFileSync(path.join(ws, 'sums.md5'), 'utf8')).toContain('\nreplaced\n');
}, 60_000);

it('an edit that does not grow a file over 20 MB is made', async () => {
  h = await toolsHarness();
  const ws = h.tools.roots.workspace;
  const file = path.join(ws, 'big.log');
  fs.writeFileSync(file, `${'line of an ordinary log\n'.repeat(1_000_000)}ERROR at the end\n`);
  const r = await h.run('fs_edit', { path: 'big.log', old_text: 'ERROR at the end', new_text: 'fixed' });
  expect(r.isError, textOf(r)).toBeFalsy();
  expect(fs.readFileSync(file, 'utf8').endsWith('fixed\n')).toBe(true);
  // One that grows it is still refused past the cap, and nothing changes.
  const grow = await h.run('fs_edit', { path: 'big.log', old_text: 'fixed', new_text: 'x'.repeat(1000) });
  expect(grow.isError).toBe(true);
  expect(textOf(grow)).toMatch(/limit is/);
  expect(fs.readFileSync(file, 'utf8').endsWith('fixed\n')).toBe(true);
}, 60_000);

it('a key on a line longer than fs_read shows is redacted before the line is cut', async () => {
  h = await toolsHarness({ config: { anthropic: { apiKey: KEY } } });
  const ws = h.tools.roots.workspace;
  // The key straddles the 60,000th character of one long line (a minified file, a CSV cell).
  fs.writeFileSync(path.join(ws, 'bundle.js'), `${'a'.repeat(60_000 - 20)}${KEY}${'b'.repeat(100)}\n`);
  const out = textOf(await h.run('fs_read', { path: 'bundle.js' }));
  expect(out).not.toContain(KEY.slice(0, 12));
});
