// `npm run bench`: run every benchmark script in scripts/bench/ one after another and print its figures.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const skip = new Set(['run-all.js', 'stats.js', 'daemon-process.js', 'echo-process.js', 'pwa-browser.js']);
let failed = 0;
for (const file of fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.js') && !skip.has(f))
  .sort()) {
  console.log(`\n== ${file.replace(/\.js$/, '')}`);
  const r = spawnSync(process.execPath, [path.join(dir, file)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
console.log(failed ? `\n${failed} benchmark(s) missed a target.` : '\nEvery benchmark met its target.');
process.exitCode = failed ? 1 : 0;
