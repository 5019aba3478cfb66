// Thread commands, attachments from the phone, and keeping long histories inside the context.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Approval } from '../../../shared/src/index.js';
import { JPEG } from '../helpers/images.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { type Harness, startHarness } from './harness.js';

let server: ModelServer;
let h: Harness | undefined;
beforeEach(async () => {
  server = await startModelServer();
});
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
  await server.close();
});

it('lists, renames, archives, deletes (restorably) and restores threads', async () => {
  server.setScript(() => reply(text('ok')));
  h = await startHarness({ modelUrl: server.url });
  const one = await h.send('thread.create', { text: 'first thread', title: 'One' });
  const two = await h.send('thread.create', { text: 'second thread\nwith more lines' });
  await h.waitTask(one.task.id, ['done']);
  await h.waitTask(two.task.id, ['done']);
  expect(two.thread.title).toBe('second thread');
  let list = await h.send('threads.list', {});
  expect(list.map((t: { id: string }) => t.id).sort()).toEqual([one.thread.id, two.thread.id].sort());

  const renamed = await h.send('thread.rename', { threadId: one.thread.id, title: 'Renamed' });
  expect(renamed.thread.title).toBe('Renamed');
  await h.send('thread.archive', { threadId: one.thread.id });
  list = await h.send('threads.list', {});
  expect(list.map((t: { id: string }) => t.id)).toEqual([two.thread.id]);
  list = await h.send('threads.list', { includeArchived: true });
  expect(list.find((t: { id: string }) => t.id === one.thread.id).state).toBe('archived');

  const del = await h.send('thread.delete', { threadId: two.thread.id });
  expect(del.thread.state).toBe('deleted');
  await expect(h.send('thread.send', { threadId: two.thread.id, text: 'more' })).rejects.toMatchObject({
    code: 'conflict',
  });
  const still = await h.send('thread.get', { threadId: two.thread.id });
  expect(still.items.length).toBe(2); // nothing gone
  const restored = await h.send('thread.restore', { threadId: two.thread.id });
  expect(restored.thread.state).toBe('active');

  // A message to an archived thread brings it back.
  const again = await h.send('thread.send', { threadId: one.thread.id, text: 'back again' });
  await h.waitTask(again.task.id, ['done']);
  expect((await h.send('thread.get', { threadId: one.thread.id })).thread.state).toBe('active');

  await expect(h.send('thread.get', { threadId: 'thr_doesnotexist' })).rejects.toMatchObject({ code: 'not_found' });
  await expect(h.send('task.resume', { taskId: one.task.id })).rejects.toMatchObject({ code: 'conflict' });
  await h.agent.idle();
  const updates = h
    .eventsOf('thread.updated')
    .filter((e) => e.thread.id === one.thread.id)
    .map((e) => e.thread.state);
  expect(updates).toEqual(expect.arrayContaining(['active', 'archived']));
});

it('shows pending approvals from the tools module in thread.get', async () => {
  server.setScript(() => reply(text('ok')));
  let shown: Approval[] = [];
  let shownIn = '';
  h = await startHarness({ modelUrl: server.url, pendingApprovals: (id) => (id === shownIn ? shown : []) });
  const { thread, task } = await h.send('thread.create', { text: 'x' });
  const approval: Approval = {
    id: 'apr_1',
    taskId: task.id,
    threadId: thread.id,
    tool: 'shell',
    summary: 'Run ls',
    action: { argv: ['ls'] },
    hash: 'h',
    createdAt: 1,
    expiresAt: 2,
    state: 'pending',
  };
  shown = [approval];
  shownIn = thread.id;
  const got = await h.send('thread.get', { threadId: thread.id });
  expect(got.approvals).toEqual([approval]);
});

it('moves attachments into the workspace inbox without overwriting, and gives them to the model', async () => {
  server.push(reply(text('I looked at both files.')));
  h = await startHarness({ modelUrl: server.url });
  const inbox = path.join(h.ctx.paths.workspace, 'inbox');
  fs.mkdirSync(inbox, { recursive: true });
  fs.writeFileSync(path.join(inbox, 'notes.txt'), 'older file');
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
    'base64',
  );
  const img = await h.ctx.uploads.save(h.cc.device.id, 'chart.png', 'image/png', png);
  const txt = await h.ctx.uploads.save(h.cc.device.id, 'notes.txt', 'text/plain', Buffer.from('new notes'));
  const other = await h.ctx.uploads.save('dev_other', 'x.txt', 'text/plain', Buffer.from('x'));
  await expect(h.send('thread.create', { text: 'look', attachmentIds: [other.id] })).rejects.toMatchObject({
    code: 'not_found',
  });

  const { thread, task } = await h.send('thread.create', { text: 'Summarise these', attachmentIds: [img.id, txt.id] });
  await h.waitTask(task.id, ['done']);
  expect(fs.readFileSync(path.join(inbox, 'notes.txt'), 'utf8')).toBe('older file');
  expect(fs.readFileSync(path.join(inbox, 'notes (2).txt'), 'utf8')).toBe('new notes');
  expect(fs.readFileSync(path.join(inbox, 'chart.png'))).toEqual(png);
  const got = await h.send('thread.get', { threadId: thread.id });
  expect(got.items[0].attachments.map((a: { path: string }) => a.path)).toEqual([
    'inbox/chart.png',
    'inbox/notes (2).txt',
  ]);
  const content = server.requests[0].body.messages[0].content;
  expect(content[0].text).toContain(path.join(inbox, 'notes (2).txt'));
  expect(content[0].text).toContain(path.join(inbox, 'chart.png'));
  expect(content[1]).toMatchObject({
    type: 'image',
    source: { type: 'base64', media_type: 'image/png', data: png.toString('base64') },
  });
  // Each upload can be used once.
  await expect(
    h.send('thread.send', { threadId: thread.id, text: 'again', attachmentIds: [txt.id] }),
  ).rejects.toMatchObject({ code: 'not_found' });
});

it('an attached file that says it is an image but is not one goes as a file, never as an image', async () => {
  server.push(reply(text('Noted.')), reply(text('Still fine.')));
  h = await startHarness({ modelUrl: server.url });
  const jpeg = JPEG;
  const fake = await h.ctx.uploads.save(h.cc.device.id, 'photo.png', 'image/png', Buffer.from('this is not a png'));
  const misnamed = await h.ctx.uploads.save(h.cc.device.id, 'scan.png', 'image/png', jpeg);
  const { thread, task } = await h.send('thread.create', { text: 'Look', attachmentIds: [fake.id, misnamed.id] });
  await h.waitTask(task.id, ['done']);
  const content = server.requests[0].body.messages[0].content;
  expect(content[0].text).toMatch(/photo\.png .*not shown as an image: not a valid image/);
  // The real image goes as what its bytes are; the fake one not at all.
  expect(content.slice(1).map((b: { type: string; source: unknown }) => [b.type, b.source])).toEqual([
    ['image', { type: 'base64', media_type: 'image/jpeg', data: jpeg.toString('base64') }],
  ]);
  // The thread goes on (a bad image would be refused with every later request).
  const next = await h.send('thread.send', { threadId: thread.id, text: 'And now?' });
  await h.waitTask(next.task.id, ['done']);
});

it('an inbox that is a link (left by a command or a cloned repository) is not followed', async () => {
  h = await startHarness({ modelUrl: server.url });
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-outside-'));
  try {
    fs.mkdirSync(h.ctx.paths.workspace, { recursive: true });
    fs.symlinkSync(outside, path.join(h.ctx.paths.workspace, 'inbox'));
    const up = await h.ctx.uploads.save(h.cc.device.id, 'notes.desktop', 'text/plain', Buffer.from('[Desktop Entry]'));
    await expect(h.send('thread.create', { text: 'look', attachmentIds: [up.id] })).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/is not a folder of its own/),
    });
    expect(fs.readdirSync(outside)).toEqual([]);
    // The upload still waits for a message, once the link is gone.
    fs.rmSync(path.join(h.ctx.paths.workspace, 'inbox'));
    server.push(reply(text('Got it.')));
    const { task } = await h.send('thread.create', { text: 'look', attachmentIds: [up.id] });
    await h.waitTask(task.id, ['done']);
    expect(fs.readFileSync(path.join(h.ctx.paths.workspace, 'inbox', 'notes.desktop'), 'utf8')).toBe('[Desktop Entry]');
  } finally {
    fs.rmSync(outside, { recursive: true, force: true });
  }
});

it('shortens older tool output visibly to stay within anthropic.contextTokens, dropping no message', async () => {
  server.push(
    reply(toolUse('big', { chars: 12_000 })),
    reply(toolUse('big', { chars: 12_000 })),
    reply(toolUse('big', { chars: 12_000 })),
    reply(text('All read.')),
  );
  h = await startHarness({ modelUrl: server.url, config: { anthropic: { contextTokens: 8000, maxTokens: 256 } } });
  const { task } = await h.send('thread.create', { text: 'read the big outputs' });
  const done = await h.waitTask(task.id, ['done']);
  expect(done.resultSummary).toBe('All read.');
  const msgs = server.requests[3].body.messages;
  expect(msgs).toHaveLength(7);
  const results = msgs
    .filter((m: { role: string }) => m.role === 'user')
    .slice(1)
    .map((m: { content: Array<{ content: Array<{ text: string }> }> }) => m.content[0].content[0].text);
  expect(results[0]).toMatch(/\[older output shortened: 12000 chars\]$/);
  expect(results[2]).toBe('x'.repeat(12_000));
  expect(JSON.stringify(msgs).length / 4).toBeLessThan(8000);
});

it('fails clearly when even the newest messages do not fit the context', async () => {
  h = await startHarness({ modelUrl: server.url, config: { anthropic: { contextTokens: 8000, maxTokens: 256 } } });
  const { task } = await h.send('thread.create', { text: 'y'.repeat(40_000) });
  const failed = await h.waitTask(task.id, ['failed']);
  expect(failed.reason).toMatch(/no longer fits in the model's context \(anthropic.contextTokens = 8,000\)/);
  expect(server.requests).toHaveLength(0);
});
