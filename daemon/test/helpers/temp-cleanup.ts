// Loaded before every test file (vitest setupFiles): every temporary folder a test makes under the
// system temp folder with an "errand-" name (homes, push keys, certificates, fixtures) is removed
// when the file's tests are done, whichever helper made it and however the test ended.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const made = new Set<string>();
const tmp = os.tmpdir();
const ours = (dir: string) => path.dirname(path.resolve(dir)) === tmp && path.basename(dir).startsWith('errand-');

const mkdtempSync = fs.mkdtempSync.bind(fs);
fs.mkdtempSync = ((prefix: string, options?: unknown) => {
  const dir = mkdtempSync(prefix, options as never) as string;
  if (ours(dir)) made.add(path.resolve(dir));
  return dir;
}) as typeof fs.mkdtempSync;

const mkdtemp = fsp.mkdtemp.bind(fsp);
fsp.mkdtemp = (async (prefix: string, options?: unknown) => {
  const dir = (await mkdtemp(prefix, options as never)) as string;
  if (ours(dir)) made.add(path.resolve(dir));
  return dir;
}) as typeof fsp.mkdtemp;

afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  made.clear();
});
