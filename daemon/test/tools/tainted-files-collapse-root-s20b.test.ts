// Past its bound the taint ledger collapses marks into folder marks, but never into an allowed
// folder (the workspace) or anything above it, nor the whole disk: the user's own CLAUDE.md there
// would then start every later task tainted, for good. Past that, the ledger keeps more marks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { TaintedFiles } from '../../src/tools/tainted-files.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const marksOf = (file: string) =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as string);

function flood(ledger: TaintedFiles, paths: string[]): void {
  for (let i = 0; i < paths.length; i += 500) ledger.add(paths.slice(i, i + 500));
}

it('10,001 files at the workspace root stay marked one by one: the user CLAUDE.md there stays clean', () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-taint-root-'));
  const file = path.join(dir, 'store', 'tainted-files');
  const ws = path.join(dir, 'home', 'workspace');
  const roots = () => [ws, path.join(dir!, 'projects')];
  const ledger = new TaintedFiles(file, { roots });
  flood(
    ledger,
    Array.from({ length: 10_001 }, (_, i) => path.join(ws, `f${i}.txt`)),
  );
  const check = (l: TaintedFiles) => {
    expect(l.readBy([path.join(ws, 'CLAUDE.md')], false)).toBe(false);
    expect(l.readBy([path.join(dir!, 'home', '.bashrc')], false)).toBe(false);
    expect(l.readBy([path.join(ws, 'f0.txt')], false)).toBe(true);
    expect(l.readBy([path.join(ws, 'f10000.txt')], false)).toBe(true);
  };
  check(ledger);
  check(new TaintedFiles(file, { roots }));
  // No mark covers a root or anything above it.
  for (const m of marksOf(file)) expect(`${ws}/`.startsWith(m)).toBe(false);
});

it('one file in each of 10,001 folders: the folders are marked, never the workspace', () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-taint-root-'));
  const file = path.join(dir, 'tainted-files');
  const ws = path.join(dir, 'workspace');
  const ledger = new TaintedFiles(file, { roots: () => [ws] });
  flood(
    ledger,
    Array.from({ length: 10_001 }, (_, i) => path.join(ws, `d${i}`, 'x.md')),
  );
  expect(ledger.readBy([path.join(ws, 'CLAUDE.md')], false)).toBe(false);
  expect(ledger.readBy([path.join(ws, 'AGENTS.md')], false)).toBe(false);
  expect(ledger.readBy([path.join(ws, 'd77', 'x.md')], false)).toBe(true);
  expect(ledger.readBy([path.join(ws, 'd10000', 'x.md')], false)).toBe(true);
  // Past the bound it keeps growing rather than coarsen, and still answers for new marks.
  ledger.add([path.join(ws, 'late.md')]);
  expect(ledger.readBy([path.join(ws, 'late.md')], false)).toBe(true);
  expect(ledger.readBy([path.join(ws, 'CLAUDE.md')], false)).toBe(false);
});

it('marks spread over 10,001 top-level names never collapse into the whole disk', () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-taint-root-'));
  const file = path.join(dir, 'tainted-files');
  const ledger = new TaintedFiles(file);
  flood(
    ledger,
    Array.from({ length: 10_001 }, (_, i) => `/t${i}/x`),
  );
  expect(ledger.readBy(['/home/u/ws/CLAUDE.md'], false)).toBe(false);
  expect(ledger.readBy(['/t5/x'], false)).toBe(true);
  expect(marksOf(file)).not.toContain('/');
});

it('a flood inside one folder under the workspace still collapses into that folder', () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-taint-root-'));
  const file = path.join(dir, 'tainted-files');
  const ws = path.join(dir, 'workspace');
  const ledger = new TaintedFiles(file, { roots: () => [ws] });
  flood(
    ledger,
    Array.from({ length: 10_001 }, (_, i) => path.join(ws, 'flood', `f${i}.txt`)),
  );
  expect(marksOf(file).length).toBeLessThanOrEqual(10_000);
  expect(ledger.readBy([path.join(ws, 'flood', 'new.txt')], false)).toBe(true);
  expect(ledger.readBy([path.join(ws, 'CLAUDE.md')], false)).toBe(false);
});
