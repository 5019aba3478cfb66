// Every way out of the roots is refused with a clear tool error; Errand's own home folder is never
// reachable, even through a root that contains it; the check is repeated at the operation.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness;
let ws: string;
let secret: string;

beforeEach(async () => {
  h = await toolsHarness();
  ws = h.ctx.paths.workspace;
  secret = path.join(h.outside, 'secret.txt');
  fs.writeFileSync(secret, 'TOP SECRET');
});
afterEach(async () => {
  await h.close();
});

async function refused(name: string, input: unknown, pattern: RegExp) {
  const out = await h.run(name, input);
  expect(out.isError).toBe(true);
  expect(textOf(out)).toMatch(pattern);
  expect(textOf(out)).not.toContain('TOP SECRET');
  return out;
}

describe('containment', () => {
  it('creates the workspace 0700 as the first root and reads inside it', async () => {
    expect(fs.statSync(ws).mode & 0o777).toBe(0o700);
    expect(h.tools.roots.usable()[0]).toBe(fs.realpathSync(ws));
    fs.writeFileSync(path.join(ws, 'a.txt'), 'hello');
    const out = await h.run('fs_read', { path: 'a.txt' });
    expect(out.isError).toBe(false);
    expect(textOf(out)).toContain('hello');
  });

  it('refuses .. even when it would stay inside', async () => {
    fs.mkdirSync(path.join(ws, 'sub'));
    fs.writeFileSync(path.join(ws, 'a.txt'), 'x');
    await refused('fs_read', { path: 'sub/../a.txt' }, /may not contain "\.\."/);
    await refused('fs_read', { path: `../outside/secret.txt` }, /may not contain/);
    await refused('fs_write', { path: `${ws}/../../outside/x.txt`, content: 'x' }, /may not contain/);
  });

  it('refuses absolute paths outside the roots, for reading and writing', async () => {
    await refused('fs_read', { path: secret }, /outside the folders you may use/);
    await refused('fs_write', { path: path.join(h.outside, 'new.txt'), content: 'x' }, /outside/);
    await refused('fs_list', { path: '/etc' }, /outside/);
    await refused('shell', { argv: ['cat', 'secret.txt'], cwd: h.outside }, /outside/);
    expect(fs.existsSync(path.join(h.outside, 'new.txt'))).toBe(false);
  });

  it('refuses a symlinked file and a symlinked folder that lead outside', async () => {
    fs.symlinkSync(secret, path.join(ws, 'link.txt'));
    fs.symlinkSync(h.outside, path.join(ws, 'linkdir'));
    await refused('fs_read', { path: 'link.txt' }, /symbolic link/);
    await refused('fs_read', { path: 'linkdir/secret.txt' }, /outside/);
    // A new file below a symlinked folder: the deepest existing ancestor resolves outside.
    await refused('fs_write', { path: 'linkdir/new/deep.txt', content: 'x' }, /outside/);
    await refused('fs_write', { path: 'link.txt', content: 'overwrite' }, /outside/);
    await refused('fs_move', { from: 'linkdir/secret.txt', to: 'stolen.txt' }, /outside/);
    await refused('fs_delete', { path: 'linkdir/secret.txt' }, /outside/);
    expect(fs.existsSync(path.join(h.outside, 'new'))).toBe(false);
    expect(fs.readFileSync(secret, 'utf8')).toBe('TOP SECRET');
  });

  it('refuses a dangling symlink', async () => {
    fs.symlinkSync(path.join(h.outside, 'not-there.txt'), path.join(ws, 'dangling.txt'));
    await refused('fs_write', { path: 'dangling.txt', content: 'x' }, /symbolic link whose target does not exist/);
    expect(fs.existsSync(path.join(h.outside, 'not-there.txt'))).toBe(false);
  });

  it('follows a symlink that stays inside the roots', async () => {
    fs.writeFileSync(path.join(ws, 'real.txt'), 'inside');
    fs.symlinkSync(path.join(ws, 'real.txt'), path.join(ws, 'alias.txt'));
    const out = await h.run('fs_read', { path: 'alias.txt' });
    expect(textOf(out)).toContain('inside');
  });

  it('refuses hard-linked files for reading and writing', async () => {
    fs.linkSync(secret, path.join(ws, 'hard.txt'));
    await refused('fs_read', { path: 'hard.txt' }, /hard links/);
    await refused('fs_write', { path: 'hard.txt', content: 'changed' }, /hard links/);
    await refused('fs_edit', { path: 'hard.txt', old_text: 'TOP', new_text: 'NOT' }, /hard links/);
    const search = await h.run('fs_search', { query: 'SECRET' });
    expect(textOf(search)).not.toContain('TOP SECRET');
    expect(fs.readFileSync(secret, 'utf8')).toBe('TOP SECRET');
  });

  it("never reaches Errand's home folder, even when a root contains it", async () => {
    const parent = path.dirname(h.home);
    h.setConfig((raw) => {
      raw.roots = [parent];
    });
    expect(h.tools.roots.usable()).toContain(parent);
    // Other folders of the root work …
    const ok = await h.run('fs_read', { path: secret });
    expect(textOf(ok)).toContain('TOP SECRET');
    // … but the home folder and its files do not, the workspace excepted.
    await refused('fs_read', { path: h.ctx.paths.config }, /Errand's own state folder/);
    await refused('fs_list', { path: h.home }, /Errand's own state folder/);
    await refused('fs_write', { path: path.join(h.home, 'secrets.json'), content: '{}' }, /Errand's own state folder/);
    await refused('fs_delete', { path: h.ctx.paths.journal }, /Errand's own state folder/);
    const found = await h.run('fs_find', { pattern: 'config.json', path: parent });
    expect(textOf(found)).not.toContain(h.ctx.paths.config);
    fs.writeFileSync(path.join(ws, 'w.txt'), 'workspace file');
    expect(textOf(await h.run('fs_read', { path: path.join(ws, 'w.txt') }))).toContain('workspace file');
    // A symlink inside the workspace pointing into the home folder is refused too.
    fs.symlinkSync(h.ctx.paths.config, path.join(ws, 'cfg.json'));
    await refused('fs_read', { path: 'cfg.json' }, /Errand's own state folder/);
  });

  it('refuses a root that is the home folder itself', async () => {
    h.setConfig((raw) => {
      raw.roots = [h.home];
    });
    const r = h.tools.roots.list().find((x) => x.path === h.home);
    expect(r?.problem).toMatch(/state folder/);
    await refused('fs_read', { path: h.ctx.paths.config }, /Errand's own state folder|outside/);
  });

  it('picks up a new root and a removed root from the configuration without a restart', async () => {
    await refused('fs_read', { path: secret }, /outside/);
    h.setConfig((raw) => {
      raw.roots = [h.outside];
    });
    expect(textOf(await h.run('fs_read', { path: secret }))).toContain('TOP SECRET');
    h.setConfig((raw) => {
      raw.roots = [];
    });
    await refused('fs_read', { path: secret }, /outside/);
  });

  it('checks again at the moment of the operation (a folder swapped for a symlink)', async () => {
    fs.mkdirSync(path.join(ws, 'dir'));
    fs.writeFileSync(path.join(ws, 'dir', 'f.txt'), 'inside');
    const roots = h.tools.roots;
    const prepared = await roots.resolve('dir/f.txt', 'read');
    fs.renameSync(path.join(ws, 'dir'), path.join(ws, 'dir-old'));
    fs.mkdirSync(path.join(h.outside, 'dir'));
    fs.writeFileSync(path.join(h.outside, 'dir', 'f.txt'), 'TOP SECRET');
    fs.symlinkSync(path.join(h.outside, 'dir'), path.join(ws, 'dir'));
    await expect(roots.recheck('dir/f.txt', prepared, 'read')).rejects.toThrow(/outside/);
  });

  it("expands ~ to the user's home folder, and still checks containment", async () => {
    const out = await refused('fs_list', { path: '~' }, /outside the folders/);
    expect(textOf(out)).toContain(os.homedir());
  });

  it('refuses pipes and devices instead of blocking on them', async () => {
    execFileSync('mkfifo', [path.join(ws, 'pipe')]);
    const started = Date.now();
    await refused('fs_read', { path: 'pipe' }, /not a regular file/);
    await refused('fs_write', { path: 'pipe', content: 'x' }, /not a regular file/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses to delete or move a root itself', async () => {
    await refused('fs_delete', { path: ws }, /allowed folder itself/);
  });
});
