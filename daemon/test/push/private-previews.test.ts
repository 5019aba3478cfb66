// The lock screen is public: with the default (private) previews, no push carries the model's text,
// a call's arguments, a command or file text, whatever path the task took to fail. Real daemons, the
// real agent loop against the scripted Messages API, the real https transport to a fake push
// service; every push is decrypted as the phone would. Full previews (an opt-in) still say why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../../shared/src/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { type ModelServer, reply, startModelServer, toolUse } from '../helpers/model-server.js';
import type { WsTestClient } from '../helpers/ws-client.js';
import { decryptPush, FakePushService, makeSubscriber, type Subscriber } from './push-service.js';

const SECRET_CONTENT = 'BANK PIN 4921; door code 7788';
const SECRET = /4921|7788|BANK PIN|door code|notes\.txt/;
/** The same write, every time the model is asked: the runaway check asks on the third. */
const writeAgain = () => reply(toolUse('fs_write', { path: 'notes.txt', content: SECRET_CONTENT }));

interface Rig {
  td: TestDaemon;
  phone: WsTestClient;
  sub: Subscriber;
}

let svc: FakePushService;
let model: ModelServer;
let quiet: Rig;
let full: Rig;

async function rig(previews: 'private' | 'full' | undefined): Promise<Rig> {
  const td = await startTestDaemon({
    config: {
      push: { subject: 'mailto:owner@example.org', ...(previews ? { previews } : {}) },
      anthropic: { apiKey: 'sk-test-key', baseUrl: model.url, model: 'claude-sonnet-4-6' },
      // Long enough to answer at once, short enough to let one expire.
      approvals: { expireMinutes: 0.1 },
    },
    push: { transport: svc.transport() },
  });
  const sub = makeSubscriber();
  const { token } = await td.pairDevice('Phone');
  const phone = await td.connect({ token });
  await phone.send({ type: 'push.subscribe', subscription: sub.subscription });
  return { td, phone, sub };
}

beforeAll(async () => {
  // Every request gets the same call (the loop never gets past the third).
  model = await startModelServer(() => writeAgain());
  svc = await FakePushService.start();
  quiet = await rig(undefined); // the default
  full = await rig('full');
});
afterAll(async () => {
  await quiet?.td.stop();
  await full?.td.stop();
  await Promise.all([svc?.close(), model?.close()]);
});

/** Runs a task into the runaway check, answers it (or lets it expire), and returns the failed task. */
async function runaway(r: Rig, title: string, answer: 'deny' | 'expire'): Promise<Task> {
  const { task } = await r.phone.send<{ task: { id: string } }>({ type: 'thread.create', text: title });
  const { approval } = await r.phone.event(
    'approval.requested',
    (e) => e.approval.taskId === task.id && e.approval.tool === 'runaway check',
    20_000,
  );
  if (answer === 'deny')
    await r.phone.send({ type: 'approval.decide', approvalId: approval.id, hash: approval.hash, decision: 'deny' });
  const done = await r.phone.event('task.updated', (e) => e.task.id === task.id && e.task.state === 'failed', 30_000);
  await r.td.daemon.idle();
  return done.task;
}

const pushesTo = (sub: Subscriber) =>
  svc.received
    .filter((p) => p.path === new URL(sub.subscription.endpoint).pathname)
    .map((p) => decryptPush(p, sub) as { type: string; title: string; body: string; threadId?: string });

describe('private previews (the default)', () => {
  it('a task stopped by the runaway check says so in a fixed sentence, with none of the repeated call', async () => {
    const failed = await runaway(quiet, 'Keep my notes', 'deny');
    // The reason names what was seen, not the arguments (the approval showed those).
    expect(failed.reason).toBe('Stopped: The agent made the same fs_write call 3 times. You chose to stop it.');
    const pushes = pushesTo(quiet.sub).filter((p) => p.threadId === failed.threadId);
    expect(pushes.map((p) => p.type)).toEqual(['approval', 'task.failed']);
    expect(pushes[0].body).toBe('Needs your OK: a task that seems to be looping');
    expect(pushes[1]).toMatchObject({
      // The thread's title is the first line of the message: no words of it on the lock screen.
      title: 'Failed · Errand task',
      body: 'Stopped: it seemed to be repeating itself. You chose to stop it.',
    });
    for (const p of pushes) expect(JSON.stringify(p)).not.toMatch(SECRET);
  });

  it('the same when nobody answers: the approval expires and the push still quotes nothing', async () => {
    const failed = await runaway(quiet, 'Tidy my notes', 'expire');
    expect(failed.reason).toBe(
      'Stopped: The agent made the same fs_write call 3 times. Nobody answered whether to continue.',
    );
    const pushes = pushesTo(quiet.sub).filter((p) => p.threadId === failed.threadId);
    expect(pushes.find((p) => p.type === 'task.failed')?.body).toBe(
      'Stopped: it seemed to be repeating itself. Nobody answered in time.',
    );
    for (const p of pushes) expect(JSON.stringify(p)).not.toMatch(SECRET);
  });
});

describe('full previews (opted in)', () => {
  it("the failed push says the reason's first line; the approval push shows the call", async () => {
    const failed = await runaway(full, 'Keep my notes', 'deny');
    const pushes = pushesTo(full.sub).filter((p) => p.threadId === failed.threadId);
    expect(pushes.map((p) => p.type)).toEqual(['approval', 'task.failed']);
    expect(pushes[0].body).toMatch(/^The agent made the same call 3 times: fs_write .*notes\.txt/);
    expect(pushes[1].body).toBe('Stopped: The agent made the same fs_write call 3 times. You chose to stop it.');
    // The reason itself never held the arguments.
    expect(pushes[1].body).not.toMatch(SECRET);
  });
});
