// What a user's install weighs: the production dependencies (`npm ci --omit=dev`) installed from
// package.json and package-lock.json into a scratch folder, their size on disk and package count,
// against the targets (≤ 80 MiB, ≤ 150 packages). For scale, the same figures for an install of
// fastify alone (the floor any web daemon pays), measured in the same run.
// Usage: node dist/scripts/bench/footprint.js — exits 1 when a target is missed. Needs the npm registry.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../daemon/src/util/project-root.js';

const MAX_MIB = 80;
const MAX_PACKAGES = 150;

function sizeOf(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += sizeOf(p);
    else if (e.isFile()) total += fs.statSync(p).size;
  }
  return total;
}

/** Install into a fresh folder with `npm ci --omit=dev` (or `npm install` without a lockfile). */
function install(files: Record<string, string>): { mib: number; packages: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-footprint-'));
  try {
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    const args = files['package-lock.json']
      ? ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund']
      : ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'];
    const r = spawnSync('npm', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm ${args[0]} failed: ${r.stderr.slice(-800)}`);
    const modules = path.join(dir, 'node_modules');
    const lock = JSON.parse(fs.readFileSync(path.join(modules, '.package-lock.json'), 'utf8')) as {
      packages: Record<string, unknown>;
    };
    return {
      mib: sizeOf(modules) / 2 ** 20,
      packages: Object.keys(lock.packages).filter((k) => k.startsWith('node_modules/')).length,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const root = PROJECT_ROOT;
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};
// Only what an install reads: no scripts (prepare would try to build), dev dependencies left out.
const manifest = JSON.stringify({ name: 'errand-footprint', private: true, dependencies: pkg.dependencies });
console.log('installing the production dependencies into a scratch folder …');
const errand = install({
  'package.json': manifest,
  'package-lock.json': fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'),
});
console.log('installing fastify alone, for scale …');
const floor = install({
  'package.json': JSON.stringify({ name: 'floor', private: true, dependencies: { fastify: pkg.dependencies.fastify } }),
});

const ok = errand.mib <= MAX_MIB && errand.packages <= MAX_PACKAGES;
console.log(
  `production install: ${errand.mib.toFixed(1)} MiB, ${errand.packages} packages (target ≤ ${MAX_MIB} MiB, ≤ ${MAX_PACKAGES} packages)`,
);
console.log(`fastify alone: ${floor.mib.toFixed(1)} MiB, ${floor.packages} packages`);
console.log(ok ? 'PASS' : 'FAIL');
process.exitCode = ok ? 0 : 1;
