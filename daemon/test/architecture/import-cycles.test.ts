// The house has a direction: no file imports itself back through others, no folder of daemon/src
// reaches into one that reaches back, and the modules the server serves never import server/ (or the CLI).
// Imports are read from the sources (static `import … from`, `export … from`, and `import()`).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const SOURCES = ['daemon/src', 'shared/src', 'pwa/src'];
const IMPORT = /(?:^|[;\s])(?:import|export)\s[^;'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sourceFiles(rel));
    else if (/\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

function resolveImport(from: string, spec: string, known: Set<string>): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  const stem = base.replace(/\.(m?js|jsx)$/, '');
  return [`${stem}.ts`, `${stem}.tsx`, `${stem}/index.ts`].find((c) => known.has(c));
}

function importGraph(): Map<string, Set<string>> {
  const files = SOURCES.flatMap(sourceFiles);
  const known = new Set(files);
  const graph = new Map<string, Set<string>>();
  for (const f of files) {
    // Comments can mention imports; drop them before reading.
    const text = fs.readFileSync(path.join(ROOT, f), 'utf8').replace(/\/\*[\s\S]*?\*\/|(^|[^:'"`])\/\/.*$/gm, '$1');
    const deps = new Set<string>();
    for (const m of text.matchAll(IMPORT)) {
      const target = resolveImport(f, m[1] ?? m[2], known);
      if (target && target !== f) deps.add(target);
    }
    graph.set(f, deps);
  }
  return graph;
}

/** Strongly connected components with more than one member (Tarjan). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return found;
}

/** daemon/src/<folder>/… → the folder; files directly in daemon/src are the composition root. */
function folderOf(file: string): string | undefined {
  const m = /^daemon\/src\/([^/]+)\//.exec(file);
  return m?.[1];
}

describe('import direction', () => {
  const graph = importGraph();

  it('reads the whole tree (the check would pass vacuously otherwise)', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('daemon/src/daemon.ts')?.size).toBeGreaterThan(5);
  });

  it('no file imports itself back through others', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('no two folders of daemon/src import each other, directly or around a loop', () => {
    const folders = new Map<string, Set<string>>();
    for (const [from, deps] of graph) {
      const a = folderOf(from);
      if (!a) continue;
      for (const d of deps) {
        const b = folderOf(d);
        if (!b || b === a) continue;
        if (!folders.has(a)) folders.set(a, new Set());
        folders.get(a)!.add(b);
      }
    }
    expect(cycles(folders)).toEqual([]);
  });

  it('the modules the server serves never import from server/ or the CLI', () => {
    const below = ['agent', 'tools', 'push', 'store', 'util', 'config', 'pairing', 'schedules', 'spend'];
    const leaks: string[] = [];
    for (const [from, deps] of graph) {
      if (!below.includes(folderOf(from) ?? '')) continue;
      for (const d of deps) if (['server', 'cli'].includes(folderOf(d) ?? '')) leaks.push(`${from} -> ${d}`);
    }
    expect(leaks).toEqual([]);
  });
});
