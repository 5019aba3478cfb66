// A write the disk cannot take leaves nothing behind: the temp file a durable write makes beside its
// target is removed whatever step failed (a full disk fails the write or the sync, not the rename).
// Before, only a failed rename removed it, and the temp-file ledger let go of it all the same, so it
// stayed in the user's folder for good. Needs root (a small tmpfs), as the other full-disk tests.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { writeAtomicIn } from '../../src/tools/no-follow.js';

const mountable = (() => {
  if (process.getuid?.() !== 0) return false;
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
})();

it.runIf(mountable)('a durable write on a full disk fails with ENOSPC and leaves no temp file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', dir], { stdio: 'ignore' });
  try {
    fs.writeFileSync(path.join(dir, 'kept.txt'), 'as it was');
    const err = await writeAtomicIn(dir, 'kept.txt', Buffer.alloc(4 * 1024 * 1024, 1)).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err?.code).toBe('ENOSPC');
    expect(fs.readdirSync(dir)).toEqual(['kept.txt']);
    expect(fs.readFileSync(path.join(dir, 'kept.txt'), 'utf8')).toBe('as it was');
  } finally {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
