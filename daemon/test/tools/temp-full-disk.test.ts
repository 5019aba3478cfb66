import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { writeAtomicIn } from '../../src/tools/no-follow.js';
import { canMountSmallDisk, smallDisk } from '../helpers/small-disk.js';

it.runIf(canMountSmallDisk)('a durable write on a full disk fails with ENOSPC and leaves no temp file', async () => {
  const disk = smallDisk('1m')!;
  const dir = disk.dir;
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
    disk.release();
  }
});
