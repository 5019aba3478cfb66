// An upload the disk cannot take is refused the way every full-disk write is: 503 `unavailable`
// saying the disk is full and what to do, with nothing of it left behind; once there is space the
// same file goes through. Before, it answered 500 with the raw ENOSPC text, which the phone showed.
// Needs root (a small tmpfs), as the other full-disk tests.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { startTestDaemon } from '../helpers/daemon.js';
import { canMountSmallDisk, fill, smallDisk } from '../helpers/small-disk.js';

it.runIf(canMountSmallDisk)(
  'an upload on a full disk gets 503 unavailable saying so, leaves nothing, and works once there is space',
  async () => {
    const disk = smallDisk('24m')!;
    const home = path.join(disk.dir, 'home');
    fs.mkdirSync(home, { mode: 0o700 });
    const td = await startTestDaemon({ home });
    let free: () => void = () => undefined;
    try {
      const { token } = await td.pairDevice();
      const send = () =>
        fetch(`${td.url}/api/upload`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv', 'x-filename': 'data.csv' },
          body: Buffer.alloc(2 * 1024 * 1024, 'a'),
        });
      free = fill(path.join(disk.dir, 'filler'));
      const refused = await send();
      expect(refused.status).toBe(503);
      const body = (await refused.json()) as { error: string; message: string };
      expect(body.error).toBe('unavailable');
      expect(body.message).toMatch(/disk full at .*Free some space, then attach it again\./);
      expect(body.message).not.toContain('ENOSPC');
      const uploads = path.join(home, 'uploads');
      expect(fs.existsSync(uploads) ? fs.readdirSync(uploads) : []).toEqual([]);

      free();
      const saved = await send();
      expect(saved.status).toBe(200);
      expect(((await saved.json()) as { name: string }).name).toBe('data.csv');
    } finally {
      free();
      await td.stop();
      disk.release();
    }
  },
);
