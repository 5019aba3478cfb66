// The PWA's initial JavaScript, gzipped: the module script index.html loads, plus everything it
// imports statically (and any modulepreload links). Lazy chunks (import()) are not counted.
// Usage: node dist/scripts/bench/pwa-size.js [pwa/dist]   — exits 1 when over budget.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const BUDGET_KB = 60;

/** Static import specifiers in a built ES module (minified output: `from"./x.js"`, `import"./x.js"`). */
export function staticImports(code: string): string[] {
  const out = new Set<string>();
  const re = /(?:\bfrom\s*|\bimport\s*)["'`]([^"'`]+\.m?js)["'`]/g;
  // Dynamic `import("…")` has a parenthesis before the quote, so it never matches.
  for (let m = re.exec(code); m; m = re.exec(code)) out.add(m[1]);
  return [...out];
}

export function initialScripts(distDir: string): string[] {
  const html = readFileSync(path.join(distDir, 'index.html'), 'utf8');
  const entries = new Set<string>();
  for (const m of html.matchAll(/<script\b[^>]*type=["']module["'][^>]*\bsrc=["']([^"']+)["'][^>]*>/g))
    entries.add(m[1]);
  for (const m of html.matchAll(/<link\b[^>]*rel=["']modulepreload["'][^>]*\bhref=["']([^"']+)["'][^>]*>/g))
    entries.add(m[1]);
  const seen = new Set<string>();
  const queue = [...entries].map((src) => path.join(distDir, src.replace(/^\//, '')));
  while (queue.length) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    if (!existsSync(file)) throw new Error(`index.html refers to ${file}, which is missing`);
    seen.add(file);
    const code = readFileSync(file, 'utf8');
    for (const spec of staticImports(code)) {
      if (!spec.startsWith('.') && !spec.startsWith('/')) continue;
      queue.push(spec.startsWith('/') ? path.join(distDir, spec.slice(1)) : path.resolve(path.dirname(file), spec));
    }
  }
  return [...seen];
}

/** The repository root: the nearest folder above this script holding pwa/ (works from dist/ too). */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'pwa', 'vite.config.ts'))) {
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
  return dir;
}

function main(): void {
  const distDir = path.resolve(process.argv[2] ?? path.join(repoRoot(), 'pwa/dist'));
  if (!existsSync(path.join(distDir, 'index.html'))) {
    console.error(`pwa-size: ${distDir}/index.html not found; run \`npm run build\` first.`);
    process.exit(2);
  }
  const files = initialScripts(distDir);
  let total = 0;
  for (const f of files) {
    const gz = gzipSync(readFileSync(f), { level: 9 }).length;
    total += gz;
    console.log(`  ${path.relative(distDir, f).padEnd(40)} ${(gz / 1024).toFixed(1).padStart(6)} KB gzip`);
  }
  const kb = total / 1024;
  const ok = kb <= BUDGET_KB;
  console.log(`pwa initial JS: ${kb.toFixed(1)} KB gzip (budget ${BUDGET_KB} KB) ${ok ? 'OK' : 'OVER BUDGET'}`);
  if (!ok) process.exit(1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
