// Tests that run compiled code in child processes (the `errand` CLI, the agent host) need dist/ to be
// current. `npm test` builds first; when a test file runs alone, build here if dist/ is stale.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../../..');

function newest(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, fs.statSync(p).mtimeMs);
  }
  return t;
}

/** Make sure `compiled` (relative to the root) exists and is newer than the daemon's sources. */
export function ensureBuilt(compiled: string): string {
  const file = path.join(ROOT, compiled);
  const sources = Math.max(
    newest(path.join(ROOT, 'daemon/src')),
    newest(path.join(ROOT, 'shared/src')),
    newest(path.join(ROOT, 'daemon/test/agent')),
    newest(path.join(ROOT, 'daemon/test/helpers')),
  );
  const stale = () => !fs.existsSync(file) || fs.statSync(file).mtimeMs < sources;
  if (!stale()) return file;
  // Test files run in parallel workers: one build at a time, or a test runs half-written output.
  const lock = path.join(ROOT, 'dist/.test-build.lock');
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const until = Date.now() + 180_000;
  for (;;) {
    try {
      fs.closeSync(fs.openSync(lock, 'wx'));
      break;
    } catch {
      // A lock older than a build can take was left by a killed run.
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 120_000) fs.rmSync(lock, { force: true });
      } catch {
        /* gone meanwhile */
      }
      if (Date.now() > until) throw new Error(`ensureBuilt: ${lock} is held too long`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    if (stale()) {
      try {
        execFileSync(path.join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'pipe' });
      } catch {
        // Type errors elsewhere in the checkout still emit; the caller checks the file.
      }
    }
  } finally {
    fs.rmSync(lock, { force: true });
  }
  return file;
}
