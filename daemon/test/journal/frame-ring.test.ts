// The replay window keeps only the chunk being filled in memory: full chunks go to an anonymous
// file and come back byte for byte when a client resumes; dropped chunks' room is reused; a
// damaged read gives undefined (the client gets a snapshot); without a folder all stays in memory.
import fs from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { FrameRing } from '../../src/store/frame-ring.js';
import { tempHome } from '../helpers/daemon.js';

const rings: FrameRing[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const r of rings.splice(0)) r.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function folder(): string {
  const d = tempHome();
  dirs.push(d);
  return d;
}

const frame = (seq: number) => `{"type":"event","seq":${seq},"event":"${'é'.repeat(seq % 700)}${'x'.repeat(300)}"}`;

function ring(dir?: string): FrameRing {
  const r = new FrameRing(dir);
  rings.push(r);
  return r;
}

/** Open file descriptors of this process on a deleted .replay- file. */
function spillFds(): number[] {
  return fs
    .readdirSync('/proc/self/fd')
    .map(Number)
    .filter((fd) => {
      try {
        const l = fs.readlinkSync(`/proc/self/fd/${fd}`);
        return l.includes('.replay-') && l.endsWith('(deleted)');
      } catch {
        return false;
      }
    });
}

it('moves full chunks to an unlinked file and reads every frame back byte for byte', () => {
  const dir = folder();
  const r = ring(dir);
  const N = 8000; // ~5 MB: several chunks
  for (let s = 1; s <= N; s++) r.push(s, s % 2 ? frame(s) : Buffer.from(frame(s)));
  expect(r.length).toBe(N);
  expect(r.bytes).toBe(Array.from({ length: N }, (_, i) => Buffer.byteLength(frame(i + 1))).reduce((a, b) => a + b));
  // Nothing is left in the folder: the file is anonymous.
  expect(fs.readdirSync(dir).filter((f) => f.includes('replay'))).toEqual([]);
  expect(spillFds().length).toBe(1);
  const all = r.from(0)!;
  expect(all.map((k) => k.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
  for (const k of all) expect(k.frame.toString('utf8')).toBe(frame(k.seq));
  const tail = r.from(N - 3)!;
  expect(tail.map((k) => k.frame.toString('utf8'))).toEqual([frame(N - 2), frame(N - 1), frame(N)]);
  r.close();
  expect(spillFds()).toEqual([]);
});

it('reuses the room of dropped chunks, so the file stays the size of the window', () => {
  const dir = folder();
  const r = ring(dir);
  let seq = 0;
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 2000; i++) r.push(++seq, frame(seq));
    r.dropOldest(r.length - 2000);
  }
  expect(r.firstSeq).toBe(seq - 1999);
  expect(r.from(0)!.map((k) => k.frame.toString('utf8'))).toEqual(
    Array.from({ length: 2000 }, (_, i) => frame(seq - 1999 + i)),
  );
  const [fd] = spillFds();
  // The window peaks at 4,000 frames of ~0.3-1.7 KB (~4 MB) before each drop: about 17 chunks of
  // 256 KB, each in a 1 MB slot (the rest a hole), not the 160 slots of the 40 MB of frames written.
  const st = fs.fstatSync(fd);
  expect(st.size).toBeLessThanOrEqual(24 * 1024 * 1024);
  expect(st.blocks * 512).toBeLessThanOrEqual(6 * 1024 * 1024);
});

it('a chunk that reads back damaged gives undefined (the client then gets a snapshot)', () => {
  const dir = folder();
  const r = ring(dir);
  for (let s = 1; s <= 4000; s++) r.push(s, frame(s));
  const [fd] = spillFds();
  fs.writeSync(fd, Buffer.from('garbage'), 0, 7, 100);
  // Read when sent: the damaged chunk's frames throw (the gateway then closes that connection)...
  const frames = r.from(0)!;
  expect(() => frames[0].frame).toThrow(/damaged/);
  // ...and from then on a resume that needs it gets a snapshot.
  expect(r.from(0)).toBeUndefined();
  // Frames still in memory (the chunk being filled) are unaffected.
  expect(r.from(3999)!.map((k) => k.seq)).toEqual([4000]);
});

it('without a folder every chunk stays in memory', () => {
  const r = ring();
  for (let s = 1; s <= 4000; s++) r.push(s, frame(s));
  expect(spillFds()).toEqual([]);
  expect(r.from(0)!.map((k) => k.frame.toString('utf8'))).toEqual(Array.from({ length: 4000 }, (_, i) => frame(i + 1)));
});

it('frames handed out are read as they are sent; one whose chunk was dropped meanwhile throws, never wrong bytes', () => {
  const dir = folder();
  const r = ring(dir);
  for (let s = 1; s <= 4000; s++) r.push(s, frame(s));
  const frames = r.from(0)!;
  expect(frames[1].frame.toString('utf8')).toBe(frame(2));
  // The window moves on: the oldest chunks are dropped and their slots reused by new frames.
  for (let s = 4001; s <= 12000; s++) r.push(s, frame(s));
  r.dropOldest(8000);
  // A chunk read before the drop is still right; one not read yet is gone.
  expect(frames[0].frame.toString('utf8')).toBe(frame(1));
  expect(() => frames[1500].frame).toThrow(/left the replay window/);
});
