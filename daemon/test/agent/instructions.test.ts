// Instructions the user keeps reach the system prompt: CLAUDE.md and AGENTS.md of the workspace and
// of an allowed folder, and the personal instructions file; the prompt stays the cached prefix
// (one breakpoint, on its last block, byte-identical across tasks while the files are unchanged).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type ModelServer, reply, startModelServer, text } from '../helpers/model-server.js';
import { type Harness, startHarness } from './harness.js';

let server: ModelServer;
let h: Harness | undefined;
let root: string;

beforeEach(async () => {
  server = await startModelServer();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-instr-root-'));
});
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
  await server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

it('reads CLAUDE.md, AGENTS.md and the personal instructions into a stable cached system prompt', async () => {
  fs.writeFileSync(path.join(root, 'CLAUDE.md'), 'Use tabs in this project.');
  fs.writeFileSync(path.join(root, 'AGENTS.md'), 'Run make test before you finish.');
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-instr-out-'));
  fs.writeFileSync(path.join(outside, 'secret.md'), 'TOP SECRET');
  h = await startHarness({ modelUrl: server.url, config: { roots: [root] } });
  fs.mkdirSync(h.ctx.paths.workspace, { recursive: true });
  fs.writeFileSync(path.join(h.ctx.paths.workspace, 'CLAUDE.md'), 'Workspace rule: reports go in Reports/.');
  // A link is not followed: it could pull in any file.
  fs.symlinkSync(path.join(outside, 'secret.md'), path.join(h.ctx.paths.workspace, 'AGENTS.md'));
  fs.writeFileSync(h.ctx.paths.instructions, 'Answer in Portuguese.');

  server.push(reply(text('ok')), reply(text('ok again')));
  for (const t of ['one', 'two']) {
    const { task } = await h.send('thread.create', { text: t });
    await h.waitTask(task.id, ['done']);
  }
  const [a, b] = server.requests.map((r) => r.body.system);
  expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  const all = a.map((x: { text: string }) => x.text).join('\n');
  for (const s of [
    'Use tabs in this project.',
    'Run make test before you finish.',
    'Workspace rule: reports go in Reports/.',
    '<personal-instructions>\nAnswer in Portuguese.\n</personal-instructions>',
    `<folder-instructions path="${path.join(root, 'CLAUDE.md')}">`,
  ])
    expect(all).toContain(s);
  expect(all).not.toContain('TOP SECRET');
  expect(a.at(-1).cache_control).toEqual({ type: 'ephemeral' });
  expect(a.slice(0, -1).filter((x: { cache_control?: unknown }) => x.cache_control)).toEqual([]);
  fs.rmSync(outside, { recursive: true, force: true });

  // Edited on the phone, the next task has the new text.
  fs.writeFileSync(h.ctx.paths.instructions, 'Answer in French.');
  server.push(reply(text('d’accord')));
  const { task } = await h.send('thread.create', { text: 'three' });
  await h.waitTask(task.id, ['done']);
  const third = server.requests[2].body.system.map((x: { text: string }) => x.text).join('\n');
  expect(third).toContain('Answer in French.');
  expect(third).not.toContain('Portuguese');

  // Files are read again only when they changed: an edit of the same size is seen too, and so is a
  // removed file.
  fs.writeFileSync(h.ctx.paths.instructions, 'Answer in German.');
  fs.rmSync(path.join(root, 'AGENTS.md'));
  server.push(reply(text('ok')));
  const fourth = await h.send('thread.create', { text: 'four' });
  await h.waitTask(fourth.task.id, ['done']);
  const last = server.requests[3].body.system.map((x: { text: string }) => x.text).join('\n');
  expect(last).toContain('Answer in German.');
  expect(last).not.toContain('French');
  expect(last).not.toContain('Run make test before you finish.');
  expect(last).toContain('Use tabs in this project.');
});
