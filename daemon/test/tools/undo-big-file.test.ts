// Undo checks that a file is as the task left it by hashing it as a stream: a file the task created
// over 2 GiB (more than one read can hold) is moved to the trash, not skipped as "changed since the
// task", and the daemon's memory does not grow by the file's size. A file that cannot be compared says
// why instead of "changed since".
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ChangeJournal } from '../../src/tools/journal.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function setup() {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-undo-big-')));
  dirs.push(root);
  const work = path.join(root, 'work');
  fs.mkdirSync(work);
  return { root, work, journal: new ChangeJournal(path.join(root, 'journal'), path.join(root, 'trash')) };
}

/** sha256 of `size` zero bytes (what a sparse file of that size reads as). */
function zerosSha(size: number): string {
  const hash = crypto.createHash('sha256');
  const block = Buffer.alloc(1024 * 1024);
  for (let left = size; left > 0; left -= block.length)
    hash.update(left >= block.length ? block : block.subarray(0, left));
  return hash.digest('hex');
}

it('a created file over 2 GiB is removed by undo (to the trash), in bounded memory', async () => {
  const { root, work, journal } = setup();
  const file = path.join(work, 'big.bin');
  const size = 2 ** 31 + 1024 * 1024; // past the most one read (Buffer) may hold
  fs.writeFileSync(file, '');
  fs.truncateSync(file, size); // sparse: no disk used
  const taskId = 'thr_big.task_big';
  await journal.recordExternal(taskId, {
    dirs: [],
    created: [{ path: file, afterSha: zerosSha(size) }],
    modified: [],
    deleted: [],
  });

  let peak = process.memoryUsage().rss;
  const start = peak;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  let result: Awaited<ReturnType<ChangeJournal['undo']>>;
  try {
    result = await journal.undo(taskId);
  } finally {
    clearInterval(sampler);
  }
  expect(result).toEqual({ restored: [file], skipped: [] });
  expect(fs.existsSync(file)).toBe(false);
  const trashed = fs.readdirSync(path.join(root, 'trash'), { recursive: true }).map(String);
  expect(trashed.some((p) => p.endsWith('big.bin'))).toBe(true);
  // Read a chunk at a time: nowhere near the file's 2 GiB.
  expect(peak - start).toBeLessThan(256 * 1024 * 1024);
}, 120_000);

it('a created file that has gained a second hard link is undone by its name; the other name keeps the content', async () => {
  const { work, journal } = setup();
  const file = path.join(work, 'made.txt');
  fs.writeFileSync(file, 'made by the task');
  const taskId = 'thr_big.task_linked';
  await journal.recordExternal(taskId, {
    dirs: [],
    created: [{ path: file, afterSha: crypto.createHash('sha256').update('made by the task').digest('hex') }],
    modified: [],
    deleted: [],
  });
  fs.linkSync(file, path.join(work, 'other-name.txt'));
  const result = await journal.undo(taskId);
  expect(result).toEqual({ restored: [file], skipped: [] });
  expect(fs.existsSync(file)).toBe(false);
  expect(fs.readFileSync(path.join(work, 'other-name.txt'), 'utf8')).toBe('made by the task');
});
