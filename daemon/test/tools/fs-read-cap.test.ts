// fs_read's cap holds on what is actually read, not only on the size seen when the call was checked:
// a file that grew past it since (another task's command appending to it) is refused when it is
// read, and the reader stops one byte past the cap even when the size it was told is smaller.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { readTools } from '../../src/tools/fs-read-tools.js';
import { readFileNoFollow } from '../../src/tools/no-follow.js';
import { Roots } from '../../src/tools/roots.js';

const temps: string[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) fs.rmSync(t, { recursive: true, force: true });
});

it('a file that grew past the cap after fs_read was checked is refused when it is read', async () => {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-read-cap-')));
  temps.push(base);
  const workspace = path.join(base, 'home', 'workspace');
  const roots = new Roots({ home: path.join(base, 'home'), workspace, configured: () => [] });
  roots.init();
  const read = readTools(roots).find((t) => t.definition.name === 'fs_read');
  const file = path.join(workspace, 'app.log');
  fs.writeFileSync(file, 'started\n');
  const prepared = await read!.prepare({ path: 'app.log' }, { taskId: 'task_grow', callId: 'call_1' });
  // Sparse: 60 MB on paper, nothing on disk.
  fs.truncateSync(file, 60 * 1024 * 1024);
  await expect(prepared.execute(new AbortController().signal)).rejects.toThrow(
    /app\.log is larger than 52,428,800 bytes, the most Errand reads here; nothing was read/,
  );
  // Back under the cap, it reads.
  fs.truncateSync(file, 8);
  const ok = await prepared.execute(new AbortController().signal);
  expect(JSON.stringify(ok.content)).toContain('started');
});

// A /proc file says it is 0 bytes long and holds more: what counts is what is read.
it.skipIf(process.platform !== 'linux')(
  'the reader stops one byte past its max even when the file said it was smaller',
  async () => {
    const status = `/proc/${process.pid}/status`;
    const whole = fs.readFileSync(status);
    expect(fs.statSync(status).size).toBe(0);
    expect(whole.length).toBeGreaterThan(100);
    await expect(readFileNoFollow(status, 100)).rejects.toThrow(/larger than 100 bytes/);
    const { data } = await readFileNoFollow(status, 1_000_000);
    expect(data.toString()).toMatch(/^Name:/);
  },
);

it('reads files of every size up to the max exactly, and refuses one byte more', async () => {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-read-cap-')));
  temps.push(base);
  const file = path.join(base, 'f.bin');
  for (const size of [0, 1, 256 * 1024, 256 * 1024 + 1, 3 * 1024 * 1024 + 7]) {
    const bytes = Buffer.alloc(size, 'x');
    if (size) bytes[size - 1] = 0x79;
    fs.writeFileSync(file, bytes);
    const { data } = await readFileNoFollow(file, size);
    expect(data.equals(bytes), `size ${size}`).toBe(true);
    if (size) await expect(readFileNoFollow(file, size - 1)).rejects.toThrow(/larger than/);
  }
});
