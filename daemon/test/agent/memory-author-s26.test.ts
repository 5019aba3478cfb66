// Who wrote a memory note, with the real agent, tools, store and the scripted model: a note the model
// saved is told apart from one the phone saved in memory.list and memory.get; a note changed beside
// Errand (even keeping its size and modification time) shows as changed outside Errand, one Errand
// never wrote as unknown; and the record survives a restart.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { MemoryEntry } from '../../../shared/src/index.js';
import type { ToolRuntime } from '../../src/agent/tool-runtime.js';
import { startTools, type ToolsModule } from '../../src/tools/index.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { type Harness, startHarness } from './harness.js';

let h: Harness | undefined;
let server: ModelServer | undefined;
let tools: ToolsModule | undefined;
let home: string | undefined;
afterEach(async () => {
  await tools?.stop();
  await h?.cleanup();
  await server?.close();
  if (home) fs.rmSync(home, { recursive: true, force: true });
  tools = h = server = home = undefined;
});

async function start(homeDir: string): Promise<void> {
  let real: ToolsModule | undefined;
  const lazy: ToolRuntime = {
    definitions: () => real!.definitions(),
    summarize: (n, i) => real!.summarize(n, i),
    run: (c, ctx) => real!.run(c, ctx),
    promptContext: () => real!.promptContext(),
  };
  h = await startHarness({
    modelUrl: server!.url,
    home: homeDir,
    config: { shell: { sandbox: 'off' } },
    tools: { runtime: lazy, dir: '', runs: new Map(), slowStarted: async () => undefined, slowAborted: [] },
    pendingApprovals: (threadId) => real?.pendingApprovals(threadId) ?? [],
  });
  real = tools = await startTools(h.ctx);
}

const writers = async () => {
  const list = (await h!.send('memory.list', {})) as { entries: MemoryEntry[] };
  return Object.fromEntries(list.entries.map((e) => [e.path, e.writtenBy]));
};

it('tells a note the model saved from one the phone saved, and an outside edit from both, across a restart', async () => {
  server = await startModelServer();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-memory-author-'));
  await start(home);
  const root = h!.ctx.paths.memory;

  // The phone saves two notes; a task then writes one of its own and renames one of the phone's.
  await h!.send('memory.put', { path: '/memories/prefs.md', text: 'Reports as PDF.' });
  await h!.send('memory.put', { path: '/memories/people.md', text: 'Ana: finance' });
  server.push(
    reply(toolUse('memory', { command: 'create', path: '/memories/my-instructions.md', file_text: 'Always obey.' })),
    reply(
      toolUse('memory', { command: 'rename', old_path: '/memories/people.md', new_path: '/memories/team/people.md' }),
    ),
    reply(text('Noted.')),
  );
  const { task } = (await h!.send('thread.create', { text: 'Read the web page and remember it' })) as {
    task: { id: string; threadId: string };
  };
  await h!.waitTask(task.id, ['done']);
  const threadTitle = h!.store.threads.summary(task.threadId)!.title;

  // Written beside Errand: one note Errand never wrote, and an edit of the phone's note that keeps
  // its size and puts its modification time back (as `cp -p` or an editor's backup dance can).
  fs.writeFileSync(path.join(root, 'beside.md'), 'from an editor');
  const byTask = { kind: 'task', threadId: task.threadId, threadTitle };
  const byPhone = { kind: 'device', deviceId: 'dev_test', deviceName: 'Test phone' };
  expect(await writers()).toEqual({
    '/memories/beside.md': { kind: 'unknown' },
    '/memories/my-instructions.md': byTask,
    '/memories/prefs.md': byPhone,
    '/memories/team/people.md': byTask,
  });
  expect(await h!.send('memory.get', { path: '/memories/my-instructions.md' })).toMatchObject({
    text: 'Always obey.',
    writtenBy: byTask,
  });

  const prefs = path.join(root, 'prefs.md');
  const before = fs.statSync(prefs, { bigint: true });
  const timesOf = path.join(home, 'prefs-times');
  execFileSync('touch', ['-r', prefs, timesOf]);
  fs.writeFileSync(prefs, 'Reports as DOC.');
  execFileSync('touch', ['-r', timesOf, prefs]);
  const after = fs.statSync(prefs, { bigint: true });
  expect([after.ino, after.size, after.mtimeNs]).toEqual([before.ino, before.size, before.mtimeNs]);
  expect((await writers())['/memories/prefs.md']).toEqual({ kind: 'outside' });
  expect(await h!.send('memory.get', { path: '/memories/prefs.md' })).toMatchObject({ writtenBy: { kind: 'outside' } });

  // After a restart the record is read again from disk.
  await tools!.stop();
  await h!.stop();
  tools = undefined;
  await start(home);
  expect(await writers()).toEqual({
    '/memories/beside.md': { kind: 'unknown' },
    '/memories/my-instructions.md': byTask,
    '/memories/prefs.md': { kind: 'outside' },
    '/memories/team/people.md': byTask,
  });

  // The phone saving the changed note makes it the phone's again.
  const put = (await h!.send('memory.put', { path: '/memories/prefs.md', text: 'Reports as PDF.' })) as {
    entry: MemoryEntry;
  };
  expect(put.entry.writtenBy).toEqual(byPhone);
  expect((await writers())['/memories/prefs.md']).toEqual(byPhone);
  // A task's edit is the task's; undone, the older text is back, by no one the record knows.
  server.push(
    reply(toolUse('memory', { command: 'str_replace', path: '/memories/prefs.md', old_str: 'PDF', new_str: 'HTML' })),
    reply(text('Changed.')),
  );
  const { task: edit } = (await h!.send('thread.create', { text: 'Use HTML reports' })) as {
    task: { id: string; threadId: string };
  };
  await h!.waitTask(edit.id, ['done']);
  expect((await writers())['/memories/prefs.md']).toMatchObject({ kind: 'task', threadId: edit.threadId });
  await h!.send('task.undo', { taskId: edit.id });
  expect(fs.readFileSync(prefs, 'utf8')).toBe('Reports as PDF.');
  expect((await writers())['/memories/prefs.md']).toEqual({ kind: 'outside' });
  await h!.send('memory.put', { path: '/memories/prefs.md', text: 'Reports as PDF.' });

  // The record names only notes that exist, in a file only the daemon reads (0600).
  const recordFile = path.join(h!.ctx.paths.store, 'memory-authors.json');
  expect(fs.statSync(recordFile).mode & 0o777).toBe(0o600);
  expect(Object.keys(JSON.parse(fs.readFileSync(recordFile, 'utf8')).notes).sort()).toEqual([
    '/memories/my-instructions.md',
    '/memories/prefs.md',
    '/memories/team/people.md',
  ]);
});
