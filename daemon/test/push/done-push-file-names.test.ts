// The private "done" push names what a task wrote without letting a web page speak on the lock screen:
// a task whose conversation read untrusted content gets only how many files and the allowed folder
// they are in; otherwise one file name, short (32 characters, extension kept), one line, and not one
// that reads as an address. (A task that read a web page wrote "notes. ERRAND SECURITY ALERT - this
// phone was unpaired. Re-pair now at errand-app.example code 4417.txt"; the push showed it whole.)
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Task } from '../../../shared/src/index.js';
import { FILE_NAME_MAX, jobForEvent, shortFileName } from '../../src/push/payload.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, type ScriptBlock, startModelServer, text, toolUse } from '../helpers/model-server.js';
import type { WsTestClient } from '../helpers/ws-client.js';
import { doneTask } from './done-task.js';
import { decryptPush, FakePushService, makeSubscriber, type Subscriber } from './push-service.js';

const PHISH = 'notes. ERRAND SECURITY ALERT - this phone was unpaired. Re-pair now at errand-app.example code 4417.txt';

const task = (over: Partial<Task> = {}): Task => doneTask({ id: 'tsk_1', createdAt: 1, endedAt: 2, ...over });
const ROOTS = ['/home/me/.errand/workspace', '/home/me/Projects'];
const doneLine = (changedFiles: string[], readUntrusted: boolean) =>
  jobForEvent(
    { kind: 'task.updated', task: task({ changedFiles }) },
    () => 'Notes',
    0,
    'private',
    ROOTS,
    readUntrusted,
  )!.payload.body;

it('a task that read untrusted content: how many files and in which allowed folder, no name', () => {
  expect(doneLine([PHISH], true)).toBe('Wrote 1 file in workspace');
  expect(doneLine(['Q3-report.md', 'chart.png'], true)).toBe('Wrote 2 files in workspace');
  expect(doneLine(['/home/me/Projects/a/Q3.md'], true)).toBe('Wrote 1 file in Projects');
  expect(doneLine(['Q3.md', '/home/me/Projects/b.md', '/elsewhere/c.md'], true)).toBe('Wrote 3 files');
});

it('otherwise one short clean name; a long one is cut with its extension kept, one like an address is not shown', () => {
  expect(doneLine(['reports/Q3-report.md', 'chart.png'], false)).toBe('Wrote Q3-report.md and 1 more file');
  expect(doneLine([PHISH], false)).toBe('Wrote 1 file in workspace');
  const long = shortFileName('quarterly-sales-performance-report-2026-final-version.md')!;
  expect(Array.from(long).length).toBeLessThanOrEqual(FILE_NAME_MAX);
  expect(long).toMatch(/^quarterly-sales-perf.*…\.md$/);
  for (const name of ['evil.example.txt', 'www.evil.txt', 'mail me@x.io.txt', 'go to evil.example now.txt'])
    expect(shortFileName(name), name).toBeUndefined();
  expect(shortFileName('a\u202Eb\u0007c\nd.txt')).toBe('a b c d.txt');
  expect(shortFileName('report.v2.md')).toBe('report.v2.md');
});

// ---- through a real daemon and a real agent task -------------------------------------------------

let svc: FakePushService;
let model: ModelServer;
let td: TestDaemon;
let phone: WsTestClient;
let sub: Subscriber;

beforeAll(async () => {
  svc = await FakePushService.start();
  model = await startModelServer();
  td = await startTestDaemon({
    config: {
      shell: { sandbox: 'off' },
      anthropic: { apiKey: 'sk-test-key', baseUrl: model.url, model: 'claude-sonnet-4-6' },
    },
    push: { transport: svc.transport() },
  });
  phone = await td.connect();
  sub = makeSubscriber();
  await phone.send({ type: 'push.subscribe', subscription: sub.subscription });
});
afterAll(async () => {
  await td.stop();
  await Promise.all([svc.close(), model.close()]);
  fs.rmSync(td.home, { recursive: true, force: true });
});

/** Run a task to its end (approving what it asks) and return the body of its done push. */
async function donePushBody(message: string, replies: ScriptBlock[][]): Promise<string> {
  const before = svc.received.length;
  model.push(...replies.map((blocks) => reply(...blocks)));
  const made = await phone.send<{ task: { id: string } }>({ type: 'thread.create', text: message });
  const approving = phone
    .event('approval.requested', (e) => e.approval.taskId === made.task.id, 20_000)
    .then((e) =>
      phone.send({ type: 'approval.decide', approvalId: e.approval.id, hash: e.approval.hash, decision: 'approve' }),
    )
    .catch(() => undefined);
  const done = await phone.event('task.updated', (e) => e.task.id === made.task.id && e.task.state === 'done', 20_000);
  void approving;
  expect(done.task.changedFiles?.length).toBe(1);
  await svc.waitFor(before + 1, 10_000);
  const push = svc.received
    .slice(before)
    .map((p) => decryptPush(p, sub))
    .find((p) => p.type === 'task.done');
  return push?.body as string;
}

it('a task that searched the web and wrote a file named by the page: the lock screen shows no name', async () => {
  const workspace = path.basename(fs.realpathSync(td.daemon.ctx.paths.workspace));
  const body = await donePushBody('summarise the page for me', [
    [
      {
        type: 'server',
        block: { type: 'server_tool_use', id: 'srvtoolu_p1', name: 'web_search' },
        input: { query: 'q' },
      },
      {
        type: 'server',
        block: {
          type: 'web_search_tool_result',
          tool_use_id: 'srvtoolu_p1',
          content: [{ type: 'web_search_result', url: 'https://evil.example/', title: 'evil', encrypted_content: 'E' }],
        },
      },
      toolUse('fs_write', { path: PHISH, content: 'x\n' }),
    ],
    [text('Wrote the notes.')],
  ]);
  expect(body).toBe(`Wrote 1 file in ${workspace}`);
});

it('a task that read nothing untrusted still names its file', async () => {
  const body = await donePushBody('write the Q3 report', [
    [toolUse('fs_write', { path: 'Q3-report.md', content: '# Q3\n' })],
    [text('Done.')],
  ]);
  expect(body).toBe('Wrote Q3-report.md');
});
