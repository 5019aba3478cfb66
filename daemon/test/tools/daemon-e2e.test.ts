// The whole daemon (startTestDaemon: real server, store, agent and tools) with a scripted model and
// a paired phone over the WebSocket: escapes refused, a file written, an approval decided from the
// phone, then the phone lists the task's changes, views and downloads a file, reads the audit log
// and undoes the task.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Approval, AuditEntry, ChangeEntry, HostStatus } from '../../../shared/src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';

let model: ModelServer;
let td: TestDaemon;
let outside: string;

beforeAll(async () => {
  model = await startModelServer();
  outside = fs.realpathSync(fs.mkdtempSync('/tmp/errand-daemon-e2e-'));
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'TOP SECRET');
  td = await startTestDaemon({
    config: {
      shell: { sandbox: 'off' },
      anthropic: { apiKey: 'sk-test-key', baseUrl: model.url, model: 'claude-sonnet-4-6' },
    },
  });
});
afterAll(async () => {
  await td?.stop();
  await model?.close();
  fs.rmSync(outside, { recursive: true, force: true });
});

it('a phone drives a task whose escapes are refused, approves a command, then reviews and undoes the changes', async () => {
  const phone = await td.connect();
  const status = await phone.send<HostStatus>({ type: 'status.get' });
  const ws = path.join(td.home, 'workspace');
  expect(status.roots[0]).toEqual({ path: ws, exists: true });
  expect(status.sandbox).toEqual({ enabled: false, reason: expect.stringMatching(/turned off/) });
  fs.writeFileSync(path.join(ws, 'plan.md'), '# Plan\n- draft\n');

  model.push(
    reply(
      toolUse('fs_read', { path: path.join(outside, 'secret.txt') }),
      toolUse('fs_write', { path: '../outside.txt', content: 'x' }),
      toolUse('fs_read', { path: path.join(td.home, 'config.json') }),
      toolUse('fs_edit', { path: 'plan.md', old_text: '- draft', new_text: '- final' }),
      toolUse('fs_write', { path: 'report/summary.md', content: '# Summary\nAll done.' }),
    ),
    reply(toolUse('shell', { argv: ['bash', '-c', 'echo chart > chart.txt'] })),
    reply(text('Wrote report/summary.md and made the chart.')),
  );
  const created = await phone.send<{ thread: { id: string }; task: { id: string } }>({
    type: 'thread.create',
    text: 'Write the report',
  });
  const taskId = created.task.id;

  const requested = await phone.event('approval.requested', (e) => e.approval.taskId === taskId, 20_000);
  const approval: Approval = requested.approval;
  expect(approval.action).toMatchObject({
    tool: 'shell',
    argv: ['bash', '-c', 'echo chart > chart.txt'],
    cwd: fs.realpathSync(ws),
  });
  await phone.event('task.updated', (e) => e.task.id === taskId && e.task.state === 'waiting');
  const thread = await phone.send<{ approvals: Approval[] }>({ type: 'thread.get', threadId: created.thread.id });
  expect(thread.approvals.map((a) => a.id)).toEqual([approval.id]);
  await phone.send({ type: 'approval.decide', approvalId: approval.id, hash: approval.hash, decision: 'approve' });
  const done = await phone.event('task.updated', (e) => e.task.id === taskId && e.task.state === 'done', 20_000);
  // The task says which files it produced (the push and the phone's list use it).
  expect([...(done.task.changedFiles ?? [])].sort()).toEqual(['chart.txt', 'plan.md', 'report/summary.md']);
  // Replaying the decision does nothing but answer with an error.
  await expect(
    phone.send({ type: 'approval.decide', approvalId: approval.id, hash: approval.hash, decision: 'approve' }),
  ).rejects.toMatchObject({ code: 'conflict' });

  const results = model.requests[1].body.messages[2].content as Array<{
    is_error?: boolean;
    content: Array<{ text: string }>;
  }>;
  expect(
    results.map((r) => r.is_error ?? false),
    JSON.stringify(results),
  ).toEqual([true, true, true, false, false]);
  expect(JSON.stringify(results)).not.toContain('TOP SECRET');
  expect(fs.existsSync(path.join(td.home, 'outside.txt'))).toBe(false);

  const real = fs.realpathSync(ws);
  const { changes } = await phone.send<{ changes: ChangeEntry[] }>({ type: 'task.changes', taskId });
  expect(changes.map((c) => [c.op, c.path])).toEqual([
    ['edit', path.join(real, 'plan.md')],
    ['mkdir', path.join(real, 'report')],
    ['create', path.join(real, 'report', 'summary.md')],
    ['create', path.join(real, 'chart.txt')],
  ]);
  const view = await phone.send<{ file: unknown }>({
    type: 'task.file',
    taskId,
    path: path.join(real, 'report', 'summary.md'),
  });
  expect(view.file).toEqual({ kind: 'markdown', name: 'summary.md', text: '# Summary\nAll done.', truncated: false });
  await expect(phone.send({ type: 'task.file', taskId, path: path.join(outside, 'secret.txt') })).rejects.toMatchObject(
    { code: 'forbidden' },
  );

  const { token } = await td.pairDevice('Laptop');
  const dl = await fetch(
    `${td.url}/api/file?task=${encodeURIComponent(taskId)}&path=${encodeURIComponent(path.join(real, 'report', 'summary.md'))}`,
    { headers: { authorization: `Bearer ${token}` } },
  );
  expect(dl.status).toBe(200);
  expect(await dl.text()).toBe('# Summary\nAll done.');
  // Only files this task created or changed: not another file in the allowed folders, not for a made-up task.
  fs.writeFileSync(path.join(ws, 'untouched.txt'), 'not part of the task');
  const other = await fetch(
    `${td.url}/api/file?task=${encodeURIComponent(taskId)}&path=${encodeURIComponent(path.join(real, 'untouched.txt'))}`,
    { headers: { authorization: `Bearer ${token}` } },
  );
  expect(other.status).toBe(404);
  const madeUp = await fetch(
    `${td.url}/api/file?task=tsk_madeup123&path=${encodeURIComponent(path.join(real, 'report', 'summary.md'))}`,
    { headers: { authorization: `Bearer ${token}` } },
  );
  expect(madeUp.status).toBe(404);

  const { entries } = await phone.send<{ entries: AuditEntry[] }>({ type: 'task.audit', taskId });
  expect(entries.map((e) => [e.tool, e.decision])).toEqual([
    ['fs_read', 'deny'],
    ['fs_write', 'deny'],
    ['fs_read', 'deny'],
    ['fs_edit', 'allow'],
    ['fs_write', 'allow'],
    ['shell', 'ask'],
    ['file.download', 'allow'],
  ]);
  expect(entries[5].approvedBy).toMatch(/^Test phone \(dev_/);
  expect(entries[6]).toMatchObject({
    args: { path: path.join(real, 'report', 'summary.md') },
    approvedBy: expect.stringMatching(/^Laptop \(dev_/),
    outcome: 'downloaded 19 bytes',
  });

  const undone = await phone.send<{ restored: string[]; skipped: unknown[] }>({ type: 'task.undo', taskId });
  expect(undone.skipped).toEqual([]);
  expect(fs.readFileSync(path.join(ws, 'plan.md'), 'utf8')).toBe('# Plan\n- draft\n');
  expect(fs.existsSync(path.join(ws, 'report'))).toBe(false);
  // The shell command's file was journaled too (snapshot before, compare after): undo removes it.
  expect(fs.existsSync(path.join(ws, 'chart.txt'))).toBe(false);
  await phone.event('changes.updated', (e) => e.taskId === taskId && e.changes.every((c) => c.undone));
});
