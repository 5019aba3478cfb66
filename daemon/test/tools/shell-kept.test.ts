// Shell undo keeps file contents in packs shared by the runs: a command in a folder that has not
// changed since the last one refers to the contents kept then, instead of reading and writing them
// again, and undo still puts back the exact bytes. The store is bounded and emptied at start.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChangeJournal } from '../../src/tools/journal.js';
import { type ShellRunJournal, ToolPaths, withShellUndo } from '../../src/tools/shell-journal.js';
import { type KeptAt, KeptStore } from '../../src/tools/shell-kept.js';

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
    await withShellUndo({
      journal,
      taskId: 'thr_k.task_one',
      cwd: folder,
      skip: () => false,
      run: async () => undefined,
    });
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

  it('a run keeps to the pack it took a content from, while other runs keep the same content at once', async () => {
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-kept-')));
    const cwd = path.join(base, 'work');
    const runsDir = path.join(base, 'runs');
    fs.mkdirSync(cwd);
    fs.writeFileSync(path.join(cwd, 'x.txt'), 'precious content X\n');
    const gate = () => {
      let open!: () => void;
      const opened = new Promise<void>((r) => {
        open = r;
      });
      return { open, opened };
    };
    // Each add() says it began and waits for its gate: the order of the runs' writes is set here.
    const began = [gate(), gate(), gate()];
    const mayFinish = [gate(), gate(), gate()];
    let calls = 0;
    class GatedStore extends KeptStore {
      override async add(contents: Map<string, Buffer>): Promise<Map<string, KeptAt>> {
        const n = calls++;
        began[n].open();
        await mayFinish[n].opened;
        return super.add(contents);
      }
    }
    // A full store: every pack let go is removed at once.
    const kept = new GatedStore(runsDir, { bytes: 1, packs: 1 });
    const recorded: Array<{ taskId: string; deleted: string[] }> = [];
    const journal: ShellRunJournal = {
      runsDir,
      kept,
      runFile: (id) => path.join(runsDir, `${id}.run`),
      ready: async () => undefined,
      watch: () => ({ paths: new ToolPaths(), offset: 0, close() {} }),
      hasRun: async () => false,
      recordExternal: async (taskId, changes) => {
        recorded.push({ taskId, deleted: changes.deleted.map((d) => path.basename(d.path)) });
      },
    };
    const run = (taskId: string, fn: () => Promise<void>) =>
      withShellUndo({ journal, taskId, cwd, skip: () => false, run: fn });
    const aRunning = gate();
    const bRunning = gate();
    const cRunning = gate();
    const bDone = gate();
    const aDone = gate();

    // B and C both keep x.txt as new; C's pack lands first, B's is held back.
    const b = run('task_b', () => (bRunning.open(), aRunning.opened)).then((r) => (bDone.open(), r));
    await began[0].opened;
    const c = run('task_c', () => (cRunning.open(), aDone.opened));
    await began[1].opened;
    mayFinish[1].open();
    await cRunning.opened;
    // A finds x.txt kept in C's pack (and has a new file of its own to keep).
    fs.writeFileSync(path.join(cwd, 'n.txt'), 'new file for A\n');
    const a = run('task_a', async () => {
      aRunning.open();
      await bDone.opened; // B ended and let go of its pack: gone, the store being full
      for (const end = Date.now() + 5000; fs.readdirSync(kept.dir).length > 2; )
        if (Date.now() > end) throw new Error("B's pack was not removed");
        else await new Promise((r) => setTimeout(r, 10));
      fs.rmSync(path.join(cwd, 'x.txt')); // A's command deletes x.txt
    }).then((r) => (aDone.open(), r));
    await began[2].opened;
    mayFinish[0].open(); // B's pack lands (x.txt's content in it too) before A's
    await bRunning.opened;
    mayFinish[2].open();
    const [ra] = await Promise.all([a, b, c]);
    expect(ra.note).toBe('file changes recorded for undo: 1 deleted');
    expect(recorded.filter((r) => r.taskId === 'task_a')).toEqual([{ taskId: 'task_a', deleted: ['x.txt'] }]);
  });
});
