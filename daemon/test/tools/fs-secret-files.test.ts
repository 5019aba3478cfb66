// A file in a root that holds a secret Errand knows (here the API key, as is or base64-encoded) is
// not a way to the secret: fs_read shows it redacted, and nothing lets the model reshape the file
// (fs_edit that puts a space after some letters, so redaction no longer sees the key) or test
// guesses against it (fs_edit's "not found", fs_search's matches, fs_info's line count). The check
// is made on the very bytes an edit changes, when it runs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { writeTools } from '../../src/tools/fs-write-tools.js';
import { ChangeJournal } from '../../src/tools/journal.js';
import { Roots } from '../../src/tools/roots.js';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

const KEY = 'sk-ant-api03-Zq7Xv9Lm2Np4Rs6Tu8Wx0Yz1Ab3Cd5Ef7Gh9Ij';
/** The key's characters with every space, dot and colon taken out of `t`: a key broken into pieces. */
const keyInPieces = (t: string) => t.replace(/[\s.:]/g, '').includes(KEY.slice(13));

let h: ToolsHarness | undefined;
const temps: string[] = [];
afterEach(async () => {
  await h?.close();
  h = undefined;
  for (const t of temps.splice(0)) fs.rmSync(t, { recursive: true, force: true });
});

it('fs_edit refuses a file holding the key (as is or base64), whatever old_text is, and changes nothing', async () => {
  h = await toolsHarness({ config: { anthropic: { apiKey: KEY } } });
  const ws = h.tools.roots.workspace;
  const env = path.join(ws, 'project.env');
  const plain = `ANTHROPIC_API_KEY=${KEY}\nDEBUG=1\n`;
  fs.writeFileSync(env, plain);
  const basic = path.join(ws, 'auth.txt');
  const encoded = `Authorization: Basic ${Buffer.from(`user:${KEY}`).toString('base64')}\n`;
  fs.writeFileSync(basic, encoded);

  // Reading shows it redacted (unchanged behaviour).
  const read = await h.run('fs_read', { path: 'project.env' });
  expect(textOf(read)).toContain('ANTHROPIC_API_KEY=[redacted]');

  // The audit's attack: spaces after letters of the key, then a read.
  for (const c of ['Z', 'L', 'R', 'W', 'C', 'I']) {
    const r = await h.run('fs_edit', { path: 'project.env', old_text: c, new_text: `${c} `, replace_all: true });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/holds a secret Errand keeps from the model.*Ask the user to edit/s);
  }
  // A guess that is not in the file gets the same refusal, not "was not found": no oracle.
  for (const old_text of ['sk-ant-api03-Zq7X', 'sk-ant-api03-AAAA', 'DEBUG=1']) {
    const r = await h.run('fs_edit', { path: 'project.env', old_text, new_text: 'x' });
    expect(textOf(r)).toMatch(/holds a secret Errand keeps from the model/);
    expect(textOf(r)).not.toMatch(/not found|appears/);
  }
  expect(fs.readFileSync(env, 'utf8')).toBe(plain);
  expect(keyInPieces(textOf(await h.run('fs_read', { path: 'project.env' })))).toBe(false);

  // The key base64-encoded (inside user:key) counts as well.
  const b = await h.run('fs_edit', { path: 'auth.txt', old_text: 'Basic', new_text: 'Basic ', replace_all: true });
  expect(textOf(b)).toMatch(/holds a secret Errand keeps from the model/);
  expect(fs.readFileSync(basic, 'utf8')).toBe(encoded);

  // A file without the key is edited as before.
  fs.writeFileSync(path.join(ws, 'notes.txt'), 'Zebra\n');
  const ok = await h.run('fs_edit', { path: 'notes.txt', old_text: 'Z', new_text: 'Z ' });
  expect(ok.isError).toBe(false);
  expect(fs.readFileSync(path.join(ws, 'notes.txt'), 'utf8')).toBe('Z ebra\n');
});

it('fs_search does not search inside a file holding the key, and says how many it skipped and why', async () => {
  h = await toolsHarness({ config: { anthropic: { apiKey: KEY } } });
  const ws = h.tools.roots.workspace;
  fs.mkdirSync(path.join(ws, 'proj'));
  fs.writeFileSync(path.join(ws, 'proj/.env'), `ANTHROPIC_API_KEY=${KEY}\n`);
  fs.writeFileSync(path.join(ws, 'proj/README.md'), 'Set ANTHROPIC_API_KEY in .env\n');

  const r = await h.run('fs_search', { query: 'ANTHROPIC', path: 'proj' });
  const out = textOf(r);
  expect(out).toContain('README.md:1: Set ANTHROPIC_API_KEY');
  expect(out).not.toContain('.env:1');
  expect(out).toMatch(
    /1 match for "ANTHROPIC".*1 file not searched because it holds a secret Errand keeps from the model/s,
  );

  // A regular expression guessing the key's next characters learns nothing, right or wrong.
  for (const query of ['sk-ant-api03-Zq7X', 'sk-ant-api03-Zq7Y', 'KEY=sk-ant-api03-Z.7']) {
    const g = await h.run('fs_search', { query, path: 'proj', regex: true });
    expect(textOf(g)).toMatch(/\[0 matches .*1 file not searched/s);
  }
  // Searching that one file by its path is the same.
  const one = await h.run('fs_search', { query: 'ANTHROPIC', path: 'proj/.env' });
  expect(textOf(one)).toMatch(/\[0 matches .*1 file not searched/s);
});

it('fs_info gives no facts from the content of a file holding the key; other files keep their line count', async () => {
  h = await toolsHarness({ config: { anthropic: { apiKey: KEY } } });
  const ws = h.tools.roots.workspace;
  fs.writeFileSync(path.join(ws, 'secret.env'), `A=1\nANTHROPIC_API_KEY=${KEY}\nB=2\n`);
  fs.writeFileSync(path.join(ws, 'plain.env'), 'A=1\nB=2\n');
  const s = textOf(await h.run('fs_info', { path: 'secret.env' }));
  expect(s).toMatch(/lines: not counted: it holds a secret Errand keeps from the model/);
  expect(s).not.toMatch(/lines: \d/);
  expect(textOf(await h.run('fs_info', { path: 'plain.env' }))).toMatch(/lines: 3/);
});

it('a file holding the key is not moved where its content would be shown whole on an approval', async () => {
  h = await toolsHarness({ config: { anthropic: { apiKey: KEY } } });
  const ws = h.tools.roots.workspace;
  fs.mkdirSync(path.join(ws, 'repo/.git/hooks'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'repo/hook.sh'), `#!/bin/sh\nexport KEY=${KEY}\n`);
  const r = await h.run('fs_move', { from: 'repo/hook.sh', to: 'repo/.git/hooks/pre-commit' });
  expect(r.isError).toBe(true);
  expect(textOf(r)).toMatch(/holds a secret Errand keeps from the model.*shown whole for approval/s);
  expect(fs.existsSync(path.join(ws, 'repo/.git/hooks/pre-commit'))).toBe(false);
  expect(h.events.some((e) => e.kind === 'approval.requested')).toBe(false);
});

it('fs_edit checks the bytes it edits when it runs: a key written after the check stops the edit', async () => {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-secret-edit-')));
  temps.push(base);
  const workspace = path.join(base, 'home', 'workspace');
  const roots = new Roots({ home: path.join(base, 'home'), workspace, configured: () => [] });
  roots.init();
  const journal = new ChangeJournal(path.join(base, 'journal'), path.join(base, 'trash'));
  const edit = writeTools(roots, journal, () => ({ values: [KEY], tokenHashes: new Set() })).find(
    (t) => t.definition.name === 'fs_edit',
  );
  const file = path.join(workspace, 'app.env');
  fs.writeFileSync(file, 'ANTHROPIC_API_KEY=\n');
  const prepared = await edit!.prepare(
    { path: 'app.env', old_text: '=', new_text: '= ', replace_all: true },
    { taskId: 'task_race', callId: 'call_1' },
  );
  // Between the check and the run (an approval, another task), the key lands in the file.
  const withKey = `ANTHROPIC_API_KEY=${KEY}\n`;
  fs.writeFileSync(file, withKey);
  await expect(prepared.execute(new AbortController().signal)).rejects.toThrow(
    /holds a secret Errand keeps from the model/,
  );
  expect(fs.readFileSync(file, 'utf8')).toBe(withKey);
});
