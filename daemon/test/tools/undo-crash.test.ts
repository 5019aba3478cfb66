// Nothing is lost at a crash: a change the file tools make is journaled (as an intent, with the
// content before) before it is made, and a shell command's "before" snapshot is on disk before it
// starts. Killed with -9 right after an overwrite lands, or in the middle of a command, the daemon
// restarts with the change listed for the task, and task.undo puts back the exact bytes before it.
// An intent whose change a crash cut off before it was made is no change: not listed, undo a no-op.
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ChangeJournal } from '../../src/tools/journal.js';
import { ensureBuilt } from '../agent/build.js';
import { killChildren } from '../helpers/cli.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { sleepPids, startPairedDaemon } from '../helpers/paired-daemon.js';
import type { WsTestClient } from '../helpers/ws-client.js';

beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 180_000);

let server: ModelServer;
let home: string;
const children: ChildProcess[] = [];
const clients: WsTestClient[] = [];
const sleepers: string[] = [];

beforeEach(async () => {
  server = await startModelServer();
  home = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-undo-crash-')));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killChildren(children);
  // A command the daemon ran (its keeper kills it with the daemon; this is only a safety net).
  for (const secs of sleepers.splice(0)) for (const pid of sleepPids(secs)) process.kill(pid, 'SIGKILL');
  await server.close();
  fs.rmSync(home, { recursive: true, force: true });
});

const baseEnv = () => ({
  ERRAND_HOME: home,
  ANTHROPIC_BASE_URL: server.url,
  ANTHROPIC_API_KEY: 'sk-test-key',
  ERRAND_MODEL: 'claude-sonnet-4-6',
});

const start = (env: Record<string, string>, token?: string) => startPairedDaemon(env, { children, clients }, { token });

type Change = { op: string; path: string; undone?: boolean };

it('kill -9 right after fs_write overwrote a file: after the restart the change is listed and undo restores the exact bytes', async () => {
  const ws0 = path.join(home, 'workspace');
  fs.mkdirSync(ws0, { recursive: true });
  const file = path.join(fs.realpathSync(ws0), 'keep.txt');
  const original = crypto.randomBytes(3000); // not text: exact bytes matter
  fs.writeFileSync(file, original);
  server.push(reply(toolUse('fs_write', { path: 'keep.txt', content: 'NEW CONTENT\n' })));

  // The test hook kills the daemon right after the file is renamed into place.
  const env = { ...baseEnv(), ERRAND_TEST_CRASH: 'after-file-change:keep.txt' };
  const first = await start(env);
  const { task } = await first.ws.send<{ task: { id: string } }>({ type: 'thread.create', text: 'overwrite it' });
  expect((await first.daemon.exited).signal).toBe('SIGKILL');
  expect(fs.readFileSync(file, 'utf8')).toBe('NEW CONTENT\n'); // the change landed before the kill

  const again = await start(baseEnv(), first.token);
  const { changes } = await again.ws.send<{ changes: Change[] }>({ type: 'task.changes', taskId: task.id });
  expect(changes.map((c) => [c.op, c.path])).toEqual([['write', file]]);
  const undo = await again.ws.send<{ restored: string[]; skipped: unknown[] }>({ type: 'task.undo', taskId: task.id });
  expect(undo).toEqual({ restored: [file], skipped: [] });
  expect(fs.readFileSync(file).equals(original)).toBe(true);
}, 120_000);

it('kill -9 in the middle of a shell command: after the restart what it changed, made and deleted is listed, and undo restores it', async () => {
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ shell: { sandbox: 'off' } }), { mode: 0o600 });
  const ws0 = path.join(home, 'workspace');
  fs.mkdirSync(ws0, { recursive: true });
  const ws = fs.realpathSync(ws0);
  const modified = crypto.randomBytes(4000);
  const deleted = crypto.randomBytes(2000);
  fs.writeFileSync(path.join(ws, 'mod.bin'), modified);
  fs.writeFileSync(path.join(ws, 'gone.bin'), deleted);
  fs.writeFileSync(path.join(ws, 'same.txt'), 'same');
  const secs = `${600 + Math.floor(Math.random() * 1e6) / 1e3}`;
  sleepers.push(secs);
  const script = `printf changed > mod.bin && rm gone.bin && mkdir made && echo new > made/new.txt && sleep ${secs}`;
  server.push(reply(toolUse('shell', { argv: ['bash', '-c', script] })), { kind: 'hang' });

  const first = await start(baseEnv());
  const { task } = await first.ws.send<{ task: { id: string } }>({ type: 'thread.create', text: 'run it' });
  // Approved as a phone would (when the policy asks).
  const requested = await first.ws.event('approval.requested', (e) => e.approval.taskId === task.id, 20_000);
  await first.ws.send({
    type: 'approval.decide',
    approvalId: requested.approval.id,
    hash: requested.approval.hash,
    decision: 'approve',
  });
  for (const end = Date.now() + 20_000; !fs.existsSync(path.join(ws, 'made', 'new.txt')); )
    if (Date.now() > end) throw new Error('the command did not run');
    else await new Promise((r) => setTimeout(r, 20));
  first.daemon.child.kill('SIGKILL');
  expect((await first.daemon.exited).signal).toBe('SIGKILL');

  const again = await start(baseEnv(), first.token);
  const { changes } = await again.ws.send<{ changes: Change[] }>({ type: 'task.changes', taskId: task.id });
  expect(changes.map((c) => [c.op, c.path]).sort()).toEqual(
    [
      ['mkdir', path.join(ws, 'made')],
      ['create', path.join(ws, 'made', 'new.txt')],
      ['write', path.join(ws, 'mod.bin')],
      ['trash', path.join(ws, 'gone.bin')],
    ].sort(),
  );
  const undo = await again.ws.send<{ restored: string[]; skipped: unknown[] }>({ type: 'task.undo', taskId: task.id });
  expect(undo.skipped).toEqual([]);
  expect(fs.readFileSync(path.join(ws, 'mod.bin')).equals(modified)).toBe(true);
  expect(fs.readFileSync(path.join(ws, 'gone.bin')).equals(deleted)).toBe(true);
  expect(fs.existsSync(path.join(ws, 'made'))).toBe(false);
  expect(fs.readdirSync(ws).sort()).toEqual(['gone.bin', 'mod.bin', 'same.txt']);
  // The run's kept files are gone once its changes are journaled.
  expect(fs.readdirSync(path.join(home, 'journal', '.shell-runs')).filter((n) => n.endsWith('.run'))).toEqual([]);
}, 120_000);

// Undo goes newest first; the hook kills the daemon right after the named change was reversed: a
// deleted file put back from the trash, a move put back, or a file the task made moved to the trash.
it.each([
  ['moved.txt', 'a move put back'],
  ['gone.txt', 'a deleted file put back'],
  ['made.txt', 'a created file taken away'],
])(
  'kill -9 partway through an undo (right after %s: %s): the next undo finishes it, every path restored, none skipped',
  async (crashAt) => {
    const ws0 = path.join(home, 'workspace');
    fs.mkdirSync(ws0, { recursive: true });
    const ws = fs.realpathSync(ws0);
    const [kept, made, gone, moved, movedTo] = ['kept.txt', 'made.txt', 'gone.txt', 'moved.txt', 'moved-to.txt'].map(
      (n) => path.join(ws, n),
    );
    fs.writeFileSync(kept, 'before');
    fs.writeFileSync(gone, 'deleted by the task');
    fs.writeFileSync(moved, 'moved by the task');
    server.push(reply(toolUse('fs_write', { path: 'kept.txt', content: 'after' })));
    server.push(reply(toolUse('fs_write', { path: 'made.txt', content: 'new file' })));
    server.push(reply(toolUse('fs_delete', { path: 'gone.txt' })));
    server.push(reply(toolUse('fs_move', { from: 'moved.txt', to: 'moved-to.txt' })));
    server.push(reply(text('Done.')));

    const first = await start({ ...baseEnv(), ERRAND_TEST_CRASH: `after-undo-of:${crashAt}` });
    const { task } = await first.ws.send<{ task: { id: string } }>({ type: 'thread.create', text: 'change files' });
    await first.ws.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
    void first.ws.send({ type: 'task.undo', taskId: task.id }).catch(() => undefined);
    expect((await first.daemon.exited).signal).toBe('SIGKILL');
    expect(fs.readFileSync(kept, 'utf8')).toBe('after'); // the oldest change: not reached

    const again = await start(baseEnv(), first.token);
    const undo = await again.ws.send<{ restored: string[]; skipped: unknown[] }>({
      type: 'task.undo',
      taskId: task.id,
    });
    expect(undo.skipped).toEqual([]);
    expect([...undo.restored].sort()).toEqual([gone, kept, made, moved, movedTo].sort());
    expect(fs.readFileSync(kept, 'utf8')).toBe('before');
    expect(fs.readFileSync(gone, 'utf8')).toBe('deleted by the task');
    expect(fs.readFileSync(moved, 'utf8')).toBe('moved by the task');
    expect(fs.existsSync(made) || fs.existsSync(movedTo)).toBe(false);
    const { changes } = await again.ws.send<{ changes: Change[] }>({ type: 'task.changes', taskId: task.id });
    expect(changes.every((c) => c.undone)).toBe(true);
    // No emptied trash slot is left behind by the interrupted put-back.
    const trash = path.join(home, 'trash');
    const slots = fs.existsSync(trash) ? fs.readdirSync(trash).filter((n) => !n.startsWith('.')) : [];
    for (const slot of slots) expect(fs.readdirSync(path.join(trash, slot)).length).toBeGreaterThan(1);
  },
  120_000,
);

describe('an intent a crash left without its change', () => {
  it('is not listed, and undo neither fails nor touches the file (an overwrite that never happened, a create that never happened)', async () => {
    const base = home;
    const folder = path.join(base, 'files');
    fs.mkdirSync(folder);
    const journalDir = path.join(base, 'journal');
    const trash = path.join(base, 'trash');
    const taskId = 'thr_x.task_intent';
    const j = new ChangeJournal(journalDir, trash);
    const kept = path.join(folder, 'kept.txt');
    fs.writeFileSync(kept, 'before');
    await j.writeFile(taskId, kept, Buffer.from('after'));
    expect(fs.readFileSync(kept, 'utf8')).toBe('after');

    // What a kill -9 between an intent and its change leaves: the intents, their changes not made.
    const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
    const blob = path.join(journalDir, taskId, 'blobs', sha('after'));
    fs.writeFileSync(blob, 'after');
    const lines = [
      {
        entry: {
          id: 'chg_overwrite',
          taskId,
          op: 'write',
          path: kept,
          at: Date.now(),
          kind: 'file',
          beforeBlob: sha('after'),
          beforeMode: 0o644,
          afterSha: sha('never written'),
        },
        intent: true,
      },
      {
        entry: {
          id: 'chg_create',
          taskId,
          op: 'create',
          path: path.join(folder, 'never.txt'),
          at: Date.now(),
          kind: 'file',
          afterSha: sha('never'),
        },
        intent: true,
      },
    ];
    fs.appendFileSync(
      path.join(journalDir, taskId, 'changes.jsonl'),
      lines.map((l) => JSON.stringify(l)).join('\n') + '\n',
    );

    const again = new ChangeJournal(journalDir, trash);
    expect((await again.changes(taskId)).map((c) => [c.op, c.path])).toEqual([['write', kept]]);
    // A file that appears later under the name of the create that never happened is not the task's.
    fs.writeFileSync(path.join(folder, 'never.txt'), 'the user made this later');
    expect((await again.changes(taskId)).map((c) => c.id)).not.toContain('chg_create');
    const undo = await again.undo(taskId);
    expect(undo).toEqual({ restored: [kept], skipped: [] });
    expect(fs.readFileSync(kept, 'utf8')).toBe('before');
    expect(fs.readFileSync(path.join(folder, 'never.txt'), 'utf8')).toBe('the user made this later');
  });
});
