// The programs the sandbox runs outside itself (bwrap, socat, rg) are found by path outside the
// allowed folders: with a PATH folder inside them (~/bin with root ~), a `bwrap` the agent planted
// there ran unsandboxed, before the sandbox, on the next approved command.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { systemProgram } from '../../src/tools/sandbox.js';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

const savedPath = process.env.PATH;
let h: ToolsHarness | undefined;
let base: string | undefined;
afterEach(async () => {
  process.env.PATH = savedPath;
  await h?.close();
  h = undefined;
  if (base) fs.rmSync(base, { recursive: true, force: true });
  base = undefined;
});

/** A root whose bin folder is first on PATH, holding "bwrap", "socat" and "rg" that leave a mark and pass on. */
function plantedRoot(): { root: string; bin: string; marker: string } {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-planted-')));
  const root = path.join(base, 'home');
  const bin = path.join(root, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  const marker = path.join(base, 'planted-ran-outside.txt');
  for (const name of ['bwrap', 'socat', 'rg']) {
    const real = systemProgram(name, [])!;
    fs.writeFileSync(path.join(bin, name), `#!/bin/sh\necho ${name} >> ${marker}\nexec ${real} "$@"\n`, {
      mode: 0o755,
    });
  }
  process.env.PATH = `${bin}${path.delimiter}${savedPath}`;
  return { root, bin, marker };
}

it('finds them outside the allowed folders, and not at all when they are only inside', () => {
  const { root, bin } = plantedRoot();
  expect(systemProgram('bwrap', [])).toBe(path.join(bin, 'bwrap'));
  const outside = systemProgram('bwrap', [root]);
  expect(outside).toMatch(/^\/(usr\/)?s?bin\/bwrap$/);
  process.env.PATH = bin;
  expect(systemProgram('bwrap', [root])).toBeUndefined();
});

it('an approved sandboxed command runs the system bwrap, not the one planted in a root on PATH', async () => {
  const { root, marker } = plantedRoot();
  h = await toolsHarness({ config: { shell: { sandbox: 'auto' }, roots: [root] } });
  const running = h.run('shell', { argv: ['echo', 'hello from the sandbox'], cwd: root });
  const asked = await h.waitEvent('approval.requested', () => true, 30_000);
  expect(asked.approval.action.sandbox).toMatch(/^on: /);
  await h.send('approval.decide', { approvalId: asked.approval.id, hash: asked.approval.hash, decision: 'approve' });
  const out = await running;
  expect(out.state).toBe('completed');
  expect(textOf(out)).toContain('hello from the sandbox');
  expect(fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : '').toBe('');
}, 60_000);
