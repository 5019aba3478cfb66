// A full disk must not end the daemon through its log: a log line is written from error handlers
// (a task that failed because the disk is full), where a throw would be an unhandled rejection.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createLogger } from '../../src/util/log.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

it('a log line that cannot be written (ENOSPC) is dropped, and the next one still tries', () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-log-full-'));
  // /dev/full answers every write with ENOSPC, as a full disk does.
  fs.symlinkSync('/dev/full', path.join(dir, 'daemon.log'));
  expect(() => fs.writeFileSync(path.join(dir!, 'daemon.log'), 'x')).toThrow(/ENOSPC/);
  const log = createLogger({ dir });
  expect(() => log.error('task failed', { reason: 'disk full' })).not.toThrow();
  expect(() => log.warn('still full')).not.toThrow();
  log.close();
});
