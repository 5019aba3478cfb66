// task.undo killed with -9 while its record (reply and changes.updated) is half written: the files
// and the change journal's undone marks are already on disk, but nothing was acknowledged. The
// phone resends the same command id; that undo reports the paths the cut one restored, as its own,
// and the changes.updated event goes out, so the phone does not keep showing the changes as live.
// Once told, a later undo (even after another kill -9) finds nothing left to do.
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { ensureBuilt } from '../agent/build.js';
import { killChildren } from '../helpers/cli.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { startPairedDaemon } from '../helpers/paired-daemon.js';
import type { WsTestClient } from '../helpers/ws-client.js';

beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 180_000);

let server: ModelServer;
let home: string;
const children: ChildProcess[] = [];
const clients: WsTestClient[] = [];

beforeEach(async () => {
  server = await startModelServer();
  home = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-undo-midappend-')));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await killChildren(children);
  await server.close();
  fs.rmSync(home, { recursive: true, force: true });
});

const baseEnv = () => ({
  ERRAND_HOME: home,
  ANTHROPIC_BASE_URL: server.url,
  ANTHROPIC_API_KEY: 'sk-test-key',
  ERRAND_MODEL: 'claude-sonnet-4-6',
});

const start = (env: Record<string, string>, token?: string, lastSeq?: number) =>
  startPairedDaemon(env, { children, clients }, { token, lastSeq });

type UndoReply = { restored: string[]; skipped: unknown[] };

it('kill -9 mid-append of task.undo: the resent id reports every restored path and sends changes.updated; a later undo is a no-op', async () => {
  const ws0 = path.join(home, 'workspace');
  fs.mkdirSync(ws0, { recursive: true });
  const ws = fs.realpathSync(ws0);
  const [changed, made, gone] = ['changed.bin', 'made.txt', 'gone.txt'].map((n) => path.join(ws, n));
  const original = crypto.randomBytes(3000); // not text: exact bytes matter
  fs.writeFileSync(changed, original);
  fs.writeFileSync(gone, 'deleted by the task');
  server.push(reply(toolUse('fs_write', { path: 'changed.bin', content: 'NEW\n' })));
  server.push(reply(toolUse('fs_write', { path: 'made.txt', content: 'made by the task' })));
  server.push(reply(toolUse('fs_delete', { path: 'gone.txt' })));
  server.push(reply(text('Done.')));

  const undoId = `undo-${crypto.randomBytes(6).toString('hex')}`;
  const first = await start({ ...baseEnv(), ERRAND_TEST_CRASH: `mid-append:${undoId}` });
  const { task } = await first.ws.send<{ task: { id: string } }>({ type: 'thread.create', text: 'change files' });
  await first.ws.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'done', 20_000);
  const seenSeq = first.ws.lastSeq();
  first.ws.sendRaw(JSON.stringify({ type: 'task.undo', taskId: task.id, id: undoId }));
  expect((await first.daemon.exited).signal).toBe('SIGKILL');
  // The cut undo had already put the files back; the phone heard nothing of it.
  expect(fs.readFileSync(changed).equals(original)).toBe(true);
  expect(fs.existsSync(made)).toBe(false);
  expect(first.ws.frames.some((f) => 'id' in f && f.id === undoId)).toBe(false);

  const again = await start(baseEnv(), first.token, seenSeq);
  const resent = await again.ws.send<UndoReply>({ type: 'task.undo', taskId: task.id }, undoId);
  expect(resent.skipped).toEqual([]);
  expect([...resent.restored].sort()).toEqual([changed, gone, made].sort());
  const updated = await again.ws.event('changes.updated', (e) => e.taskId === task.id);
  expect(updated.changes.map((c) => c.path).sort()).toEqual([changed, gone, made].sort());
  expect(updated.changes.every((c) => c.undone)).toBe(true);
  expect(fs.readFileSync(changed).equals(original)).toBe(true);
  expect(fs.readFileSync(gone, 'utf8')).toBe('deleted by the task');
  expect(fs.existsSync(made)).toBe(false);

  // The same id again gets the same reply; a new undo finds nothing left and says nothing.
  expect(await again.ws.send<UndoReply>({ type: 'task.undo', taskId: task.id }, undoId)).toEqual(resent);
  expect(await again.ws.send<UndoReply>({ type: 'task.undo', taskId: task.id })).toEqual({ restored: [], skipped: [] });

  // Once the journal notes the result as told (docs/store.md `reported`), a kill -9 does not make
  // the next undo tell it again.
  const changesFile = path.join(home, 'journal', task.id, 'changes.jsonl');
  for (const end = Date.now() + 10_000; !fs.readFileSync(changesFile, 'utf8').includes('"reported"'); )
    if (Date.now() > end) throw new Error('the undo was never noted as reported');
    else await new Promise((r) => setTimeout(r, 20));
  again.daemon.child.kill('SIGKILL');
  expect((await again.daemon.exited).signal).toBe('SIGKILL');
  const third = await start(baseEnv(), first.token);
  expect(await third.ws.send<UndoReply>({ type: 'task.undo', taskId: task.id })).toEqual({ restored: [], skipped: [] });
  expect(fs.readFileSync(changed).equals(original)).toBe(true);
}, 120_000);
