// Ways a shell command's changes once escaped undo (audit-undo): a folder swapped for a link, hard
// links, mode-only changes, a change past the comparison's walk cap, files named like Errand's temp
// files. And the comparison is bounded: a sparse terabyte costs a stat (reported as not undoable),
// the task's cancel stops the hashing, and recovery at start (which every file tool waits for)
// hashes no more than the snapshot's own size.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChangeJournal } from '../../src/tools/journal.js';
import { diffSnapshot, ToolPaths, takeSnapshot, withShellUndo } from '../../src/tools/shell-journal.js';

let base: string;
afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

function setup() {
  base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-escapes-')));
  const work = path.join(base, 'work');
  const outside = path.join(base, 'outside');
  fs.mkdirSync(work);
  fs.mkdirSync(outside);
  const journalDir = path.join(base, 'journal');
  const journal = new ChangeJournal(journalDir, path.join(base, 'trash'));
  return { work, outside, journalDir, journal };
}

const sh = (cwd: string, script: string) => execFileSync('bash', ['-c', script], { cwd, stdio: 'ignore' });

async function shell(
  journal: ChangeJournal,
  taskId: string,
  cwd: string,
  script: string,
  more: { limits?: { maxFiles: number; maxBytes: number; maxHashFile?: number; maxHashBytes?: number } } = {},
) {
  return withShellUndo({ journal, taskId, cwd, skip: () => false, ...more, run: async () => sh(cwd, script) });
}

const listed = async (journal: ChangeJournal, taskId: string) =>
  (await journal.changes(taskId)).map((c) => [c.op, c.path]);

describe('a folder swapped for a link', () => {
  it('counts the files kept in it as deleted; undo says why it leaves them, and restores them once the link is gone', async () => {
    const { work, outside, journal } = setup();
    fs.mkdirSync(path.join(work, 'docs'));
    fs.writeFileSync(path.join(work, 'docs', 'report.txt'), 'the user report');
    // A folder elsewhere that holds a file of the same name.
    fs.writeFileSync(path.join(outside, 'report.txt'), 'not the report');
    const taskId = 'thr_x.task_swap';
    const out = await shell(journal, taskId, work, `rm -r docs && ln -s ${outside} docs`);
    expect(out.note).toBe('file changes recorded for undo: 1 deleted');
    expect(await listed(journal, taskId)).toEqual([['trash', path.join(work, 'docs', 'report.txt')]]);

    const first = await journal.undo(taskId);
    expect(first).toEqual({
      restored: [],
      skipped: [{ path: path.join(work, 'docs', 'report.txt'), reason: expect.stringMatching(/replaced by a link/) }],
    });
    expect(fs.readFileSync(path.join(outside, 'report.txt'), 'utf8')).toBe('not the report');
    fs.rmSync(path.join(work, 'docs'));
    expect(await journal.undo(taskId)).toEqual({ restored: [path.join(work, 'docs', 'report.txt')], skipped: [] });
    expect(fs.readFileSync(path.join(work, 'docs', 'report.txt'), 'utf8')).toBe('the user report');
  });

  it('a move hidden behind a link (mv docs .docs-real && ln -s .docs-real docs) is recorded as a delete', async () => {
    const { work, journal } = setup();
    fs.mkdirSync(path.join(work, 'docs'));
    fs.writeFileSync(path.join(work, 'docs', 'report.txt'), 'the user report');
    const taskId = 'thr_x.task_mv';
    const out = await shell(journal, taskId, work, 'mv docs .docs-real && ln -s .docs-real docs');
    expect(out.note).toBe('file changes recorded for undo: 1 created, 1 deleted, 1 folder created');
    expect((await listed(journal, taskId)).sort()).toEqual(
      [
        ['mkdir', path.join(work, '.docs-real')],
        ['create', path.join(work, '.docs-real', 'report.txt')],
        ['trash', path.join(work, 'docs', 'report.txt')],
      ].sort(),
    );
    const undo = await journal.undo(taskId);
    expect(undo.skipped).toContainEqual({
      path: path.join(work, 'docs', 'report.txt'),
      reason: expect.stringMatching(/replaced by a link/),
    });
  });
});

describe('hard links', () => {
  it('a file changed and left with a second link is recorded, and undo restores it and removes the link', async () => {
    const { work, journal } = setup();
    fs.writeFileSync(path.join(work, 'a.txt'), 'ORIGINAL');
    const taskId = 'thr_x.task_link_a';
    const out = await shell(journal, taskId, work, 'printf EVIL > a.txt && ln a.txt .keep');
    expect(out.note).toBe('file changes recorded for undo: 1 created, 1 modified');
    expect((await listed(journal, taskId)).sort()).toEqual(
      [
        ['create', path.join(work, '.keep')],
        ['write', path.join(work, 'a.txt')],
      ].sort(),
    );
    const undo = await journal.undo(taskId);
    expect(undo.restored.sort()).toEqual([path.join(work, '.keep'), path.join(work, 'a.txt')].sort());
    expect(undo.skipped).toEqual([]);
    expect(fs.readFileSync(path.join(work, 'a.txt'), 'utf8')).toBe('ORIGINAL');
    expect(fs.existsSync(path.join(work, '.keep'))).toBe(false);
  });

  it('a file with two links is kept: changed and unlinked by a later command, undo restores it', async () => {
    const { work, journal } = setup();
    fs.writeFileSync(path.join(work, 'b.txt'), 'ORIGINAL B');
    const taskId = 'thr_x.task_link_b';
    expect((await shell(journal, taskId, work, 'ln b.txt .b-link')).note).toBe(
      'file changes recorded for undo: 1 created',
    );
    expect((await shell(journal, taskId, work, 'printf EVIL > b.txt && rm .b-link')).note).toBe(
      'file changes recorded for undo: 1 modified, 1 deleted',
    );
    const undo = await journal.undo(taskId);
    expect(undo.skipped).toEqual([]);
    expect(fs.readFileSync(path.join(work, 'b.txt'), 'utf8')).toBe('ORIGINAL B');
    expect(fs.readdirSync(work)).toEqual(['b.txt']);
  });
});

describe('mode changes', () => {
  it('a mode-only change (chmod 6777) is recorded, and undo puts the mode back', async () => {
    const { work, journal } = setup();
    const tool = path.join(work, 'tool.sh');
    fs.writeFileSync(tool, 'echo hi\n');
    fs.chmodSync(tool, 0o644);
    const taskId = 'thr_x.task_mode';
    expect((await shell(journal, taskId, work, 'chmod 6777 tool.sh')).note).toBe(
      'file changes recorded for undo: 1 modified',
    );
    expect(fs.statSync(tool).mode & 0o7777).toBe(0o6777);
    expect(await journal.undo(taskId)).toEqual({ restored: [tool], skipped: [] });
    expect(fs.statSync(tool).mode & 0o7777).toBe(0o644);
    expect(fs.readFileSync(tool, 'utf8')).toBe('echo hi\n');
  });
});

describe('past the walk cap', () => {
  it('a changed existing file the walk did not reach is still recorded, and the step says what is not undoable', async () => {
    const { work, journal } = setup();
    fs.mkdirSync(path.join(work, 'sub', 'a'), { recursive: true });
    fs.writeFileSync(path.join(work, 'sub', 'a', 'b.txt'), 'ORIGINAL B\n');
    const taskId = 'thr_x.task_cap';
    // 2 files at most: the walk stops after 40 entries, and `z` is walked before `sub`.
    const out = await shell(
      journal,
      taskId,
      work,
      'mkdir z && (cd z && seq 1 60 | xargs touch) && printf "EVIL B\\n" > sub/a/b.txt',
      { limits: { maxFiles: 2, maxBytes: 1024 * 1024 } },
    );
    expect(out.undoable).toBe(false);
    expect(out.note).toMatch(/1 modified/);
    expect(out.note).toMatch(/grew too large to compare in full: new files and folders past that point/);
    expect(await listed(journal, taskId)).toContainEqual(['write', path.join(work, 'sub', 'a', 'b.txt')]);
    await journal.undo(taskId);
    expect(fs.readFileSync(path.join(work, 'sub', 'a', 'b.txt'), 'utf8')).toBe('ORIGINAL B\n');
  });
});

describe("files named like Errand's temp files", () => {
  it('are recorded and undone like any other, folders too', async () => {
    const { work, journal } = setup();
    const taskId = 'thr_x.task_temp';
    const out = await shell(
      journal,
      taskId,
      work,
      'mkdir -p .cache.1-deadbeef.tmp/deep && echo x > .cache.1-deadbeef.tmp/deep/run.sh && echo y > .x.2-0badf00d.tmp && echo z > .errand-0123456789ab.tmp',
    );
    expect(out.note).toBe('file changes recorded for undo: 3 created, 2 folders created');
    const undo = await journal.undo(taskId);
    expect(undo.skipped).toEqual([]);
    expect(fs.readdirSync(work)).toEqual([]);
  });

  it("the temp file of a tool's write in flight is left out: only beside a path the tools write", async () => {
    const { work } = setup();
    const snap = await takeSnapshot(work, () => false);
    if (!snap.ok) throw new Error(snap.reason);
    fs.mkdirSync(path.join(work, 'written'));
    fs.mkdirSync(path.join(work, 'other'));
    fs.writeFileSync(path.join(work, 'written', '.errand-0123456789ab.tmp'), 'partial');
    fs.writeFileSync(path.join(work, 'other', '.errand-0123456789ab.tmp'), 'not a tool temp');
    const theirs = new ToolPaths();
    theirs.add({ exact: [path.join(work, 'written', 'target.txt')], trees: [] });
    const { changes } = await diffSnapshot(snap.snapshot, () => false, undefined, theirs);
    expect(changes.created.map((c) => c.path)).toEqual([path.join(work, 'other', '.errand-0123456789ab.tmp')]);
  });
});

describe('the comparison is bounded', () => {
  it('a sparse terabyte costs a stat: left out, named, and the step is not undoable', async () => {
    const { work, journal } = setup();
    fs.writeFileSync(path.join(work, 'grown.bin'), 'small');
    const taskId = 'thr_x.task_sparse';
    const out = await shell(
      journal,
      taskId,
      work,
      'truncate -s 1T big.bin && truncate -s 1T grown.bin && echo ok > ok.txt',
    );
    expect(out.undoable).toBe(false);
    expect(out.note).toBe(
      'file changes recorded for undo: 1 created; 2 changed files could not be compared, so their changes are not recorded and cannot be undone: big.bin (over 256 MB), grown.bin (over 256 MB)',
    );
    expect(await listed(journal, taskId)).toEqual([['create', path.join(work, 'ok.txt')]]);
  }, 15_000);

  it('stops at the total budget, and hashes little more once the task is cancelled', async () => {
    const { work, journal } = setup();
    const limits = { maxFiles: 100, maxBytes: 1000, maxHashFile: 10_000, maxHashBytes: 12_000 };
    const budget = await withShellUndo({
      journal,
      taskId: 'thr_x.task_budget',
      cwd: work,
      skip: () => false,
      limits,
      run: async () => {
        for (const n of ['a', 'b', 'c']) fs.writeFileSync(path.join(work, `${n}.bin`), crypto.randomBytes(5000));
      },
    });
    expect(budget.note).toMatch(
      /1 changed file could not be compared.*: c\.bin \(past the 12000 bytes compared in all\)/,
    );

    const cancel = new AbortController();
    const fresh = path.join(work, 'fresh');
    fs.mkdirSync(fresh);
    const cancelled = await withShellUndo({
      journal,
      taskId: 'thr_x.task_cancel',
      cwd: fresh,
      skip: () => false,
      limits,
      signal: cancel.signal,
      run: async () => {
        fs.writeFileSync(path.join(fresh, 'd-small.txt'), 'small');
        fs.writeFileSync(path.join(fresh, 'e-big.bin'), crypto.randomBytes(5000));
        cancel.abort();
      },
    });
    expect(cancelled.undoable).toBe(false);
    expect(cancelled.note).toMatch(
      /^file changes recorded for undo: 1 created; 1 changed file .*e-big\.bin \(the task was cancelled\)$/,
    );
    expect(await listed(journal, 'thr_x.task_cancel')).toEqual([['create', path.join(fresh, 'd-small.txt')]]);
  });

  it('recovery at start hashes no more than the snapshot holds: a sparse terabyte does not hold the file tools', async () => {
    const { work, journalDir, journal } = setup();
    const taskId = 'thr_x.task_crash';
    const made = path.join(work, 'made.txt');
    // The command "runs" until the daemon dies: the run file stays, as after a kill -9.
    void withShellUndo({
      journal,
      taskId,
      cwd: work,
      skip: () => false,
      run: () => {
        sh(work, 'truncate -s 1T big.bin && echo made > made.txt');
        return new Promise<never>(() => undefined);
      },
    });
    for (const end = Date.now() + 10_000; !fs.existsSync(made); )
      if (Date.now() > end) throw new Error('the command did not run');
      else await new Promise((r) => setTimeout(r, 20));

    const again = new ChangeJournal(journalDir, path.join(base, 'trash'));
    await again.ready();
    expect(await listed(again, taskId)).toEqual([['create', made]]);
    expect(fs.readdirSync(path.join(journalDir, '.shell-runs')).filter((n) => n.endsWith('.run'))).toEqual([]);
  }, 15_000);
});
