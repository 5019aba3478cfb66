// Shell undo keeps file contents in packs shared by the runs: a command in a folder that has not
// changed since the last one refers to the contents kept then, instead of reading and writing them
// again, and undo still puts back the exact bytes. The store is bounded and emptied at start.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChangeJournal } from '../../src/tools/journal.js';
import { withShellUndo } from '../../src/tools/shell-journal.js';
import { KeptStore } from '../../src/tools/shell-kept.js';

let base: string;
afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

const packsIn = (journalDir: string) => {
  try {
    return fs.readdirSync(path.join(journalDir, '.shell-runs', 'kept')).sort();
  } catch {
    return [];
  }
};
const runHeads = (journalDir: string) =>
  fs
    .readdirSync(path.join(journalDir, '.shell-runs'))
    .filter((n) => n.endsWith('.run'))
    .map((n) => {
      const data = fs.readFileSync(path.join(journalDir, '.shell-runs', n));
      return JSON.parse(data.subarray(4, 4 + data.readUInt32LE(0)).toString()) as {
        v: number;
        files: Array<[string, string, number, number, string, number]>;
      };
    });

/** Until every file under `dir` last changed over 2 s ago (a snapshot then trusts its signature). */
async function settle(dir: string): Promise<void> {
  const files = fs.readdirSync(dir).map((n) => path.join(dir, n));
  for (const end = Date.now() + 10_000; files.some((f) => Date.now() - fs.statSync(f).ctimeMs < 2100); ) {
    if (Date.now() > end) throw new Error('the files did not settle');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the kept store of shell runs', () => {
  it('refers a later run to what an earlier run kept, and undo of that run restores the exact bytes', async () => {
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-kept-')));
    const folder = path.join(base, 'work');
    fs.mkdirSync(folder);
    const big = crypto.randomBytes(300_000);
    const other = crypto.randomBytes(5000);
    fs.writeFileSync(path.join(folder, 'big.bin'), big);
    fs.writeFileSync(path.join(folder, 'other.bin'), other);
    const journalDir = path.join(base, 'journal');
    const journal = new ChangeJournal(journalDir, path.join(base, 'trash'));
    const skip = () => false;
    await settle(folder);

    await withShellUndo({ journal, taskId: 'thr_k.task_one', cwd: folder, skip, run: async () => undefined });
    const [first] = packsIn(journalDir);
    expect(packsIn(journalDir)).toEqual([first]);

    const taskId = 'thr_k.task_two';
    let during: { packs: string[]; heads: ReturnType<typeof runHeads> } | undefined;
    const result = await withShellUndo({
      journal,
      taskId,
      cwd: folder,
      skip,
      run: async () => {
        during = { packs: packsIn(journalDir), heads: runHeads(journalDir) };
        fs.writeFileSync(path.join(folder, 'big.bin'), 'overwritten');
        fs.rmSync(path.join(folder, 'other.bin'));
      },
    });
    expect(result.note).toBe('file changes recorded for undo: 1 modified, 1 deleted');
    // Nothing was copied again: the run's durable record names the first run's pack for both files.
    expect(during?.packs).toEqual([first]);
    expect(during?.heads.map((h) => [h.v, h.files.map((f) => [path.basename(f[0]), f[4]]).sort()])).toEqual([
      [
        2,
        [
          ['big.bin', first],
          ['other.bin', first],
        ],
      ],
    ]);

    expect(await journal.undo(taskId)).toMatchObject({ skipped: [] });
    expect(fs.readFileSync(path.join(folder, 'big.bin')).equals(big)).toBe(true);
    expect(fs.readFileSync(path.join(folder, 'other.bin')).equals(other)).toBe(true);
  });

  it('never restores kept content that is damaged: the file is left out of undo', async () => {
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-kept-')));
    const folder = path.join(base, 'work');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'a.txt'), 'the original text');
    const journalDir = path.join(base, 'journal');
    const journal = new ChangeJournal(journalDir, path.join(base, 'trash'));
    await settle(folder);
    await withShellUndo({ journal, taskId: 'thr_k.task_one', cwd: folder, skip: () => false, run: async () => undefined });
    const [pack] = packsIn(journalDir);
    fs.writeFileSync(path.join(journalDir, '.shell-runs', 'kept', pack), 'THE DAMAGED TEXT!');

    const taskId = 'thr_k.task_two';
    const result = await withShellUndo({
      journal,
      taskId,
      cwd: folder,
      skip: () => false,
      run: async () => fs.writeFileSync(path.join(folder, 'a.txt'), 'changed'),
    });
    // The damaged content is never restored; the file is not listed as undoable.
    expect(result.note).toBe(`no file changes under ${folder}`);
    expect(await journal.undo(taskId)).toEqual({ restored: [], skipped: [] });
    expect(fs.readFileSync(path.join(folder, 'a.txt'), 'utf8')).toBe('changed');
  });

  it('removes the oldest packs no run holds once over its bounds, and starts empty', async () => {
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-kept-')));
    const runs = path.join(base, 'runs');
    const store = new KeptStore(runs, { bytes: 5, packs: 100 });
    const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
    const one = Buffer.from('first-pack');
    const two = Buffer.from('second-pack');
    const p1 = [...(await store.add(new Map([[sha(one), one]]))).values()][0];
    const p2 = [...(await store.add(new Map([[sha(two), two]]))).values()][0];
    const gone = async (pack: string) => {
      for (const end = Date.now() + 5000; fs.existsSync(path.join(store.dir, pack)); )
        if (Date.now() > end) throw new Error(`${pack} not removed`);
        else await new Promise((r) => setTimeout(r, 10));
    };
    // Both are held by the runs that added them. Over the bounds, the one let go goes; the held one stays.
    store.release([p2.pack]);
    expect(store.locate(sha(two))).toBeUndefined();
    await gone(p2.pack);
    expect(store.locate(sha(one))).toEqual(p1);
    expect(await store.read(p1, sha(one))).toEqual(one);
    store.release([p1.pack]);
    expect(store.locate(sha(one))).toBeUndefined();
    await gone(p1.pack);

    // A pack left from a previous life is removed at the next start (no run refers to it).
    const three = Buffer.from('third');
    await store.add(new Map([[sha(three), three]]));
    expect(fs.readdirSync(store.dir)).toHaveLength(1);
    const journalDir = path.join(base, 'journal');
    const journal = new ChangeJournal(journalDir, path.join(base, 'trash'));
    const left = new KeptStore(path.join(journalDir, '.shell-runs'));
    await left.add(new Map([[sha(three), three]]));
    await journal.ready();
    const again = new ChangeJournal(journalDir, path.join(base, 'trash'));
    await again.ready();
    expect(fs.existsSync(left.dir)).toBe(false);
  });
});
