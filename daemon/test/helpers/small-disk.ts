// A really full disk for tests: a small tmpfs (needs root; mounting may be refused), filled up to
// the last byte. Used by the full-disk tests, which run only where a tmpfs can be mounted.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface SmallDisk {
  dir: string;
  release(): void;
}

/** A tmpfs of `size` (e.g. "16m") in a temp folder; undefined where mounting is not allowed. */
export function smallDisk(size = '16m'): SmallDisk | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    release: () => {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether this machine lets the tests mount a tmpfs (tried once, at load). */
export const canMountSmallDisk = (() => {
  const probe = smallDisk('1m');
  probe?.release();
  return probe !== undefined;
})();

/** Fill the disk `file` is on, to the last byte. Returns what frees the space again. */
export function fill(file: string): () => void {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
  // Small writes may still fit in the last partial block: take those too.
  const small = Buffer.alloc(1);
  const fd2 = fs.openSync(`${file}.2`, 'w');
  try {
    for (;;) fs.writeSync(fd2, small);
  } catch {
    /* full */
  } finally {
    fs.closeSync(fd2);
  }
  return () => {
    fs.rmSync(file, { force: true });
    fs.rmSync(`${file}.2`, { force: true });
  };
}
