// The initial-JavaScript budget: the bench script's reading of index.html, and the real build under 60 KB gzip.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BUDGET_KB, initialScripts, staticImports } from '../../scripts/bench/pwa-size.js';
import { ensureBuilt, ROOT } from './helpers/browser.js';

describe('initial JS budget', () => {
  it('counts the entry and its static imports, not lazy chunks', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-size-'));
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(
      path.join(dir, 'index.html'),
      '<script type="module" crossorigin src="/assets/index-a.js"></script><link rel="modulepreload" href="/assets/pre.js">',
    );
    fs.writeFileSync(
      path.join(dir, 'assets/index-a.js'),
      'import{a as b}from"./shared-b.js";import"./side.js";const l=()=>import("./lazy.js");',
    );
    fs.writeFileSync(path.join(dir, 'assets/shared-b.js'), 'export const a=1;');
    fs.writeFileSync(path.join(dir, 'assets/side.js'), 'import{a}from"./shared-b.js";');
    fs.writeFileSync(path.join(dir, 'assets/pre.js'), '1');
    fs.writeFileSync(path.join(dir, 'assets/lazy.js'), 'x'.repeat(100000));
    expect(staticImports('import{a}from"./x.js";import"./y.js";import("./z.js")')).toEqual(['./x.js', './y.js']);
    expect(
      initialScripts(dir)
        .map((f) => path.basename(f))
        .sort(),
    ).toEqual(['index-a.js', 'pre.js', 'shared-b.js', 'side.js']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the built app ships under the budget', async () => {
    await ensureBuilt();
    const files = initialScripts(path.join(ROOT, 'pwa/dist'));
    expect(files.length).toBeGreaterThan(0);
    const kb = files.reduce((n, f) => n + gzipSync(fs.readFileSync(f), { level: 9 }).length, 0) / 1024;
    expect(kb).toBeLessThan(BUDGET_KB);
  }, 120_000);
});
