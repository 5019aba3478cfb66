// Errand's home under another name: a bind mount (of the home, or of a folder above it) inside an
// allowed folder leads into the home by another path. Tools are refused there as at the home's own
// path, while the workspace stays usable under either name. Real bind mounts (this runs as root).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Roots } from '../../src/tools/roots.js';

let base: string;
let roots: Roots;
const mounts: string[] = [];

beforeAll(() => {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-home-alias-')));
  const home = path.join(base, 'state', 'errand');
  fs.mkdirSync(path.join(home, 'workspace'), { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(home, 'config.json'), '{}');
  fs.writeFileSync(path.join(home, 'workspace', 'notes.txt'), 'mine');
  const allowed = path.join(base, 'projects');
  fs.mkdirSync(path.join(allowed, 'alias-of-state'), { recursive: true });
  fs.mkdirSync(path.join(allowed, 'alias-of-home'), { recursive: true });
  for (const [from, to] of [
    [path.join(base, 'state'), path.join(allowed, 'alias-of-state')],
    [home, path.join(allowed, 'alias-of-home')],
  ]) {
    execFileSync('mount', ['--bind', from, to]);
    mounts.push(to);
  }
  roots = new Roots({ home, workspace: path.join(home, 'workspace'), configured: () => [allowed] });
  roots.init();
});
afterAll(() => {
  for (const m of mounts.splice(0).reverse()) execFileSync('umount', [m]);
  fs.rmSync(base, { recursive: true, force: true });
});

it('refuses the home through a bind mount of it or of a folder above it, for reading and writing', async () => {
  const projects = path.join(base, 'projects');
  for (const p of [
    'alias-of-state/errand/config.json',
    'alias-of-state/errand',
    'alias-of-state/errand/memory/new-note.md',
    'alias-of-home/config.json',
    'alias-of-home',
  ]) {
    for (const access of ['read', 'write'] as const)
      await expect(roots.resolve(path.join(projects, p), access), `${p} ${access}`).rejects.toThrow(
        /Errand's own state folder/,
      );
  }
});

it('the workspace stays usable through the same mounts, and so does the rest of the allowed folder', async () => {
  const projects = path.join(base, 'projects');
  const viaAlias = await roots.resolve(path.join(projects, 'alias-of-home/workspace/notes.txt'), 'read');
  expect(viaAlias.exists).toBe(true);
  fs.writeFileSync(path.join(projects, 'plan.md'), 'x');
  expect((await roots.resolve(path.join(projects, 'plan.md'), 'write')).exists).toBe(true);
});
