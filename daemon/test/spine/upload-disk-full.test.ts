// An upload the disk cannot take is refused the way every full-disk write is: 503 `unavailable`
// saying the disk is full and what to do, with nothing of it left behind; once there is space the
// same file goes through. Before, it answered 500 with the raw ENOSPC text, which the phone showed.
// Needs root (a small tmpfs), as the other full-disk tests.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { startTestDaemon } from '../helpers/daemon.js';

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

/** Fill the disk: a file grown until it refuses more. */
function fill(file: string): void {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
}

it.runIf(mountable)(
  'an upload on a full disk gets 503 unavailable saying so, leaves nothing, and works once there is space',
  async () => {
    const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0700', 'tmpfs', mnt], { stdio: 'ignore' });
    const home = path.join(mnt, 'home');
    fs.mkdirSync(home, { mode: 0o700 });
    const td = await startTestDaemon({ home });
    const filler = path.join(mnt, 'filler');
    try {
      const { token } = await td.pairDevice();
      const send = () =>
        fetch(`${td.url}/api/upload`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv', 'x-filename': 'data.csv' },
          body: Buffer.alloc(2 * 1024 * 1024, 'a'),
        });
      fill(filler);
      const refused = await send();
      expect(refused.status).toBe(503);
      const body = (await refused.json()) as { error: string; message: string };
      expect(body.error).toBe('unavailable');
      expect(body.message).toMatch(/disk full at .*Free some space, then attach it again\./);
      expect(body.message).not.toContain('ENOSPC');
      const uploads = path.join(home, 'uploads');
      expect(fs.existsSync(uploads) ? fs.readdirSync(uploads) : []).toEqual([]);

      fs.rmSync(filler);
      const saved = await send();
      expect(saved.status).toBe(200);
      expect(((await saved.json()) as { name: string }).name).toBe('data.csv');
    } finally {
      fs.rmSync(filler, { force: true });
      await td.stop();
      execFileSync('umount', [mnt], { stdio: 'ignore' });
      fs.rmSync(mnt, { recursive: true, force: true });
    }
  },
);
