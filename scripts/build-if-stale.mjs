// Build only when a source changed since the last build (npm start, npm test, npm ci's prepare):
// starting from the built output takes a second, rebuilding everything takes 20 s or more.
// The stamp is written after a build that succeeded; any source newer than it means "build".
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stamp = path.join(root, 'dist', '.build-stamp');
const SOURCES = [
  'daemon/src',
  'daemon/bin',
  'shared/src',
  'pwa/src',
  'pwa/public',
  'pwa/index.html',
  'pwa/vite.config.ts',
  'pwa/tsconfig.json',
  'scripts',
  'tsconfig.json',
  'package.json',
  'package-lock.json',
];

function newest(p) {
  let st;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of fs.readdirSync(p)) max = Math.max(max, newest(path.join(p, name)));
  return max;
}

const built = (() => {
  try {
    return fs.statSync(stamp).mtimeMs;
  } catch {
    return 0;
  }
})();
const outputsThere = fs.existsSync(path.join(root, 'dist', 'bundle')) && fs.existsSync(path.join(root, 'pwa', 'dist'));
const changed = Math.max(...SOURCES.map((s) => newest(path.join(root, s))));
if (built > 0 && outputsThere && changed <= built) {
  process.exit(0);
}
process.stdout.write('Building Errand (daemon and phone app)…\n');
const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
fs.mkdirSync(path.dirname(stamp), { recursive: true });
fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
