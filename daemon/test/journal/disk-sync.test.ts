// Where the journal's fdatasync runs: on the event loop while the disk is fast, through the thread
// pool once a flush was slow (so a slow disk never holds every client), back on the loop when fast;
// flushes back to back (a busy loop) go to the pool.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { BUSY_GAP_MS, DiskSync, ON_LOOP_MAX_MS } from '../../src/store/disk-sync.js';

/** Calls that record where each flush ran; each takes what `nextTakes` says on a clock the test drives. */
function fakeDisk() {
  let clock = 0;
  const ran: ('loop' | 'pool')[] = [];
  const disk = {
    nextTakes: 0.3,
    ran,
    calls: {
      fdatasyncSync: () => {
        ran.push('loop');
        clock += disk.nextTakes;
      },
      fdatasync: (_fd: number, done: (err: NodeJS.ErrnoException | null) => void) => {
        ran.push('pool');
        clock += disk.nextTakes;
        setImmediate(() => done(null));
      },
    },
    now: () => clock,
    /** Time passes between flushes, as between one person's commands. */
    idle: (ms = 50) => {
      clock += ms;
    },
  };
  return disk;
}

it('flushes on the event loop while the disk is fast', async () => {
  const disk = fakeDisk();
  const sync = new DiskSync(disk.calls, disk.now);
  for (let i = 0; i < 50; i++) {
    disk.idle();
    await sync.fdatasync(3);
  }
  expect(disk.ran).toEqual(Array(50).fill('loop'));
});

it('flushes back to back go through the thread pool, a lone one after a pause on the loop', async () => {
  const disk = fakeDisk();
  const sync = new DiskSync(disk.calls, disk.now);
  await sync.fdatasync(3);
  for (let i = 0; i < 5; i++) await sync.fdatasync(3);
  disk.idle(BUSY_GAP_MS / 2);
  await sync.fdatasync(3);
  disk.idle(BUSY_GAP_MS);
  await sync.fdatasync(3);
  expect(disk.ran).toEqual(['loop', 'pool', 'pool', 'pool', 'pool', 'pool', 'pool', 'loop']);
});

it('moves to the thread pool after a slow flush, and back once the disk has been fast again', async () => {
  const disk = fakeDisk();
  const sync = new DiskSync(disk.calls, disk.now);
  await sync.fdatasync(3);
  disk.idle();
  disk.nextTakes = 50; // one slow flush: the disk is busy
  await sync.fdatasync(3);
  disk.nextTakes = 0.3;
  disk.idle();
  expect(sync.onLoop).toBe(false);
  const after: string[] = [];
  for (let i = 0; i < 60 && !sync.onLoop; i++) {
    await sync.fdatasync(3);
    disk.idle();
    after.push(disk.ran.at(-1)!);
  }
  // Every flush while the slow one is remembered went to the pool, and the loop came back.
  expect(after.length).toBeGreaterThan(10);
  expect(new Set(after)).toEqual(new Set(['pool']));
  expect(sync.onLoop).toBe(true);
  await sync.fdatasync(3);
  expect(disk.ran.at(-1)).toBe('loop');
});

it('a flush slower than the bound on the loop sends the next one to the pool', async () => {
  const disk = fakeDisk();
  const sync = new DiskSync(disk.calls, disk.now);
  disk.nextTakes = ON_LOOP_MAX_MS + 0.5;
  await sync.fdatasync(3);
  disk.nextTakes = 0.3;
  disk.idle();
  await sync.fdatasync(3);
  expect(disk.ran).toEqual(['loop', 'pool']);
});

it('a failed flush rejects, wherever it ran', async () => {
  const failing = {
    fdatasyncSync: () => {
      throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    },
    fdatasync: (_fd: number, done: (err: NodeJS.ErrnoException | null) => void) =>
      done(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })),
  };
  let clock = 0;
  const sync = new DiskSync(failing, () => clock);
  await expect(sync.fdatasync(3)).rejects.toThrow(/EIO/);
  // A slow flush on the loop sends the next through the pool, where it fails too.
  const slow = new DiskSync(
    {
      ...failing,
      fdatasyncSync: () => {
        clock += 10;
      },
    },
    () => clock,
  );
  await slow.fdatasync(3);
  clock += 50;
  await expect(slow.fdatasync(3)).rejects.toThrow(/EIO/);
});

it('makes real bytes durable on a real file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-disk-sync-'));
  try {
    const file = path.join(dir, 'segment');
    const fd = fs.openSync(file, 'a');
    fs.writeSync(fd, 'record');
    await new DiskSync().fdatasync(fd);
    fs.closeSync(fd);
    expect(fs.readFileSync(file, 'utf8')).toBe('record');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
