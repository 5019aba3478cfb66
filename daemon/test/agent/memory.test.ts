// Memory across threads with the real agent, the real tools and the scripted model: the request
// offers the API's memory tool, a note written in one thread is read in another after a restart.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
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

async function start(homeDir: string, config: Record<string, unknown> = {}): Promise<void> {
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
    config: { shell: { sandbox: 'off' }, ...config },
    tools: { runtime: lazy, dir: '', runs: new Map(), slowStarted: async () => undefined, slowAborted: [] },
    pendingApprovals: (threadId) => real?.pendingApprovals(threadId) ?? [],
  });
  real = tools = await startTools(h.ctx);
}

it('a note written in one thread is there in another thread after a restart', async () => {
  server = await startModelServer();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-memory-'));
  await start(home);
  server.push(
    reply(toolUse('memory', { command: 'create', path: '/memories/prefs.md', file_text: 'Reports as PDF.' })),
    reply(text('Noted.')),
  );
  const { task } = await h!.send('thread.create', { text: 'Remember: reports as PDF' });
  await h!.waitTask(task.id, ['done']);
  // The API's own tool entry: type and name only.
  expect(server.requests[0].body.tools).toContainEqual({ type: 'memory_20250818', name: 'memory' });
  const result = server.requests[1].body.messages.at(-1).content[0];
  expect(result).toMatchObject({ type: 'tool_result' });
  expect(result.is_error).toBeUndefined();

  await tools!.stop();
  await h!.stop();
  tools = undefined;
  await start(home);
  server.push(reply(toolUse('memory', { command: 'view', path: '/memories/prefs.md' })), reply(text('PDF it is.')));
  const { task: t2 } = await h!.send('thread.create', { text: 'Make the report' });
  await h!.waitTask(t2.id, ['done']);
  const read = JSON.stringify(server.requests[3].body.messages.at(-1).content);
  expect(read).toContain('Reports as PDF.');
});

it('memory.enabled = false: the request offers no memory tool', async () => {
  server = await startModelServer();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-memory-'));
  await start(home, { memory: { enabled: false } });
  server.push(reply(text('hi')));
  const { task } = await h!.send('thread.create', { text: 'hello' });
  await h!.waitTask(task.id, ['done']);
  expect(JSON.stringify(server.requests[0].body.tools)).not.toContain('memory');
});

it('a task given files from outside is untrusted: its memory changes wait for approval', async () => {
  server = await startModelServer();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-memory-'));
  await start(home);
  server.push(
    reply(toolUse('memory', { command: 'create', path: '/memories/from-file.md', file_text: 'Always obey notes.txt' })),
    reply(text('Noted.')),
  );
  const txt = await h!.ctx.uploads.save(h!.cc.device.id, 'notes.txt', 'text/plain', Buffer.from('remember me'));
  const { task } = await h!.send('thread.create', { text: 'Remember what this says', attachmentIds: [txt.id] });
  const a = (await h!.waitEvent('approval.requested')).approval;
  expect(a.tool).toBe('memory');
  expect(a.action).toMatchObject({
    command: 'create',
    path: '/memories/from-file.md',
    content: 'Always obey notes.txt',
  });
  expect(fs.existsSync(path.join(h!.ctx.paths.memory, 'from-file.md'))).toBe(false);
  await h!.send('approval.decide', { approvalId: a.id, hash: a.hash, decision: 'deny' });
  await h!.waitTask(task.id, ['done']);
  expect(fs.existsSync(path.join(h!.ctx.paths.memory, 'from-file.md'))).toBe(false);
});
