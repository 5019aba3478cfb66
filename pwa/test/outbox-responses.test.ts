// An answer to the agent's question, or an Approve, written while the computer is unreachable waits
// in the outbox like a message and is sent once, when it is back. One the computer refuses (the
// question was answered, the approval decided, on another device meanwhile) is never sent again and
// is said in the thread. A decided approval leaves the phone's thread as it leaves the computer's.
//
// The app's own connection, session and outbox run in node against a real daemon on loopback; the
// phone goes offline as the browser's `offline` event makes it (networkLost) while its address leads
// nowhere, and comes back as the `online` event makes it (pokeTransport). Only IndexedDB is a stand-in.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { freePort } from '../../daemon/test/helpers/cli.js';
import { startTestDaemon, type TestDaemon } from '../../daemon/test/helpers/daemon.js';
import {
  type ModelServer,
  reply,
  type ScriptReply,
  startModelServer,
  text,
  toolUse,
} from '../../daemon/test/helpers/model-server.js';
import type { WsTestClient } from '../../daemon/test/helpers/ws-client.js';
import type { Approval, Question, ThreadItem } from '../../shared/src/index.js';
import { loadThread, request, start, stop } from '../src/conn/connection.js';
import {
  discard,
  enqueueAnswer,
  enqueueDecision,
  loadOutbox,
  outboxStore,
  responsesStore,
  startOutbox,
} from '../src/conn/outbox.js';
import { nextToSend, refusedFor } from '../src/conn/outbox-logic.js';
import { networkLost, pokeTransport } from '../src/conn/transport.js';
import { appStore, authStore, connStore } from '../src/state/app.js';

vi.mock('../src/lib/idb.js', () => {
  // IndexedDB as the app uses it: values cloned in and out, per store.
  const stores: Record<string, Map<string, unknown>> = { kv: new Map(), outbox: new Map() };
  const copy = <T>(v: T): T => (v === undefined ? v : structuredClone(v));
  return {
    idb: {
      get: async (s: string, k: string) => copy(stores[s].get(k)),
      put: async (s: string, k: string, v: unknown) => void stores[s].set(k, copy(v)),
      del: async (s: string, k: string) => void stores[s].delete(k),
      all: async (s: string) => [...stores[s].values()].map(copy),
      clear: async (s: string) => void stores[s].clear(),
      batch: async (s: string, puts: Array<[string, unknown]>, dels: string[] = []) => {
        for (const k of dels) stores[s].delete(k);
        for (const [k, v] of puts) stores[s].set(k, copy(v));
      },
    },
  };
});

const g = globalThis as Record<string, unknown>;
let model: ModelServer;
let td: TestDaemon;
let checker: WsTestClient;
let nowhere = '';
const place = { protocol: 'http:', host: '' };

/** Wait until `fn` gives something truthy, and give it back. */
async function until<T>(fn: () => T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const detail = (threadId: string) => appStore.get().details[threadId];

/**
 * Node's `ws` as the app meets a browser's WebSocket: an error is an event, never thrown. The app
 * clears its handlers before closing a socket (transport.ts teardown); a connect to the address
 * that leads nowhere refused after that was an uncaught exception here, never in a browser.
 */
class BrowserLikeWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    this.on('error', () => undefined);
  }
}

async function goOffline(): Promise<void> {
  place.host = nowhere;
  networkLost();
  await until(() => connStore.get().status === 'offline', 'the phone to be offline');
}

async function goOnline(): Promise<void> {
  place.host = `127.0.0.1:${td.port}`;
  pokeTransport(true);
  await until(() => connStore.get().status === 'online', 'the phone to be back online');
}

/** A new thread whose history the phone holds (kept current by events), its model replies queued. */
async function startThread(prompt: string, ...replies: ScriptReply[]): Promise<string> {
  model.push(...replies);
  const r = await request({ type: 'thread.create', text: prompt });
  await loadThread(r.thread.id, true);
  return r.thread.id;
}

const openQuestion = (threadId: string) =>
  until(() => Object.values(detail(threadId)?.questions ?? {})[0], 'the question') as Promise<Question>;
const pendingApproval = (threadId: string) =>
  until(() => Object.values(detail(threadId)?.approvals ?? {})[0], 'the approval') as Promise<Approval>;
const taskEnded = (threadId: string, state: string) =>
  checker.event('task.updated', (e) => e.task.threadId === threadId && e.task.state === state, 20_000);

beforeAll(async () => {
  model = await startModelServer();
  td = await startTestDaemon({
    env: { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: model.url },
    config: { shell: { sandbox: 'off' } },
  });
  nowhere = `127.0.0.1:${await freePort()}`;
  // What the connection takes from the browser: its socket, its address, its events.
  g.WebSocket = BrowserLikeWebSocket;
  g.location = place;
  g.addEventListener = () => undefined;
  g.document = { addEventListener: () => undefined, visibilityState: 'visible' };
  const { token, deviceId } = await td.pairDevice('Outbox phone');
  authStore.set({ token, deviceId, hostName: 'Test computer', deviceName: 'Outbox phone', pairedAt: Date.now() });
  place.host = `127.0.0.1:${td.port}`;
  startOutbox();
  start();
  await until(() => connStore.get().status === 'online', 'the first connection');
  checker = await td.connect();
}, 60_000);

afterAll(async () => {
  stop();
  checker?.close();
  await td?.stop();
  await model?.close();
  for (const k of ['WebSocket', 'location', 'addEventListener', 'document']) delete g[k];
});

describe('answers and decisions written offline', () => {
  it('an answer typed while the computer is unreachable waits, and is sent once when it is back', async () => {
    const threadId = await startThread(
      'Ask me which quarter',
      reply(toolUse('ask_user', { question: 'Which quarter: Q2 or Q3?' })),
      reply(text('Got the quarter.')),
    );
    const q = await openQuestion(threadId);
    await goOffline();

    const sent = await enqueueAnswer({ threadId, taskId: q.taskId, questionId: q.id, text: 'The third one' });
    expect(responsesStore.get()).toEqual([
      expect.objectContaining({ id: sent.id, state: 'pending', text: 'The third one' }),
    ]);
    // Written down first: an app restarted now still has it.
    responsesStore.set([]);
    outboxStore.set([]);
    await loadOutbox();
    expect(responsesStore.get().map((e) => e.id)).toEqual([sent.id]);
    // Tapping Reply again while it waits queues no second answer (the computer takes one).
    const again = await enqueueAnswer({ threadId, taskId: q.taskId, questionId: q.id, text: 'The second one' });
    expect(again.id).toBe(sent.id);
    expect(model.requests).toHaveLength(1);

    await goOnline();
    await taskEnded(threadId, 'done');
    await until(() => responsesStore.get().length === 0, 'the outbox to be empty');
    expect(model.requests).toHaveLength(2);
    const toModel = JSON.stringify(model.requests[1].body.messages);
    expect(toModel.match(/The third one/g)).toHaveLength(1);
    expect(toModel).not.toContain('The second one');
    // The computer kept it as the answer to its question.
    const stored = await checker.send<{ items: ThreadItem[] }>({ type: 'thread.get', threadId });
    const asked = stored.items.find((i) => i.kind === 'tool' && i.tool === 'ask_user');
    expect(asked).toMatchObject({ state: 'completed', output: 'The third one' });
  }, 60_000);

  it('an answer the computer refuses (answered on another device meanwhile) is said, and never sent again', async () => {
    const threadId = await startThread(
      'Tidy a folder',
      reply(toolUse('ask_user', { question: 'Which folder?' })),
      reply(text('Tidied Downloads.')),
    );
    const q = await openQuestion(threadId);
    await goOffline();
    await enqueueAnswer({ threadId, taskId: q.taskId, questionId: q.id, text: 'Desktop' });
    await checker.send({ type: 'task.answer', taskId: q.taskId, questionId: q.id, text: 'Downloads' });

    await goOnline();
    const refused = await until(
      () => responsesStore.get().find((e) => e.state === 'failed'),
      'the answer to come back refused',
    );
    expect(refused.error).toMatch(/already answered/);
    await taskEnded(threadId, 'done');
    // Its question has gone from the thread: the thread itself says the answer was not used.
    await until(() => !detail(threadId).questions[q.id], 'the question to close on the phone');
    const shown = { questions: new Set(Object.keys(detail(threadId).questions)), approvals: new Set<string>() };
    expect(refusedFor(responsesStore.get(), threadId, shown)).toEqual([refused]);
    // Refused for good: nothing of it is left to send.
    expect(nextToSend(responsesStore.get())).toBeUndefined();
    await discard(refused.id);
    expect(responsesStore.get()).toEqual([]);
  }, 60_000);

  it('Approve tapped while the computer is unreachable is sent when it is back; decided, the approval leaves the thread', async () => {
    const threadId = await startThread(
      'Echo something',
      reply(toolUse('shell', { argv: ['echo', 'queued-ok'] })),
      reply(text('Ran it.')),
    );
    const a = await pendingApproval(threadId);
    await goOffline();
    // Tapped twice before the first is written: one decision.
    const tap = () =>
      enqueueDecision({ threadId, approvalId: a.id, hash: a.hash, decision: 'approve', summary: a.summary });
    const [one, two] = await Promise.all([tap(), tap()]);
    expect(two.id).toBe(one.id);
    expect(responsesStore.get()).toEqual([expect.objectContaining({ approvalId: a.id, state: 'pending' })]);

    await goOnline();
    const resolved = await checker.event('approval.resolved', (e) => e.approval.id === a.id, 20_000);
    expect(resolved.approval).toMatchObject({ state: 'approved', decidedBy: expect.stringContaining('Outbox phone') });
    await taskEnded(threadId, 'done');
    await until(() => responsesStore.get().length === 0, 'the outbox to be empty');
    // The phone that watched shows what the computer gives a phone that opens the thread now.
    const stored = await checker.send<{ approvals: Approval[]; items: ThreadItem[] }>({ type: 'thread.get', threadId });
    expect(stored.approvals).toEqual([]);
    await until(() => detail(threadId).tasks[a.taskId]?.state === 'done', 'the task to end on the phone');
    expect(detail(threadId).approvals).toEqual({});
    // The step it asked about is the record of what became of it.
    expect(stored.items.find((i) => i.kind === 'tool' && i.tool === 'shell')).toMatchObject({ state: 'completed' });
  }, 60_000);

  it('an Approve the computer refuses (decided on another device meanwhile) is said, and never sent again', async () => {
    const threadId = await startThread(
      'Echo something else',
      reply(toolUse('shell', { argv: ['echo', 'never'] })),
      reply(text('I did not run it.')),
    );
    const a = await pendingApproval(threadId);
    await goOffline();
    await enqueueDecision({ threadId, approvalId: a.id, hash: a.hash, decision: 'approve', summary: a.summary });
    await checker.send({ type: 'approval.decide', approvalId: a.id, hash: a.hash, decision: 'deny' });

    await goOnline();
    const refused = await until(
      () => responsesStore.get().find((e) => e.state === 'failed'),
      'the decision to come back refused',
    );
    expect(refused.error).toMatch(/already decided/);
    await until(() => !detail(threadId).approvals[a.id], 'the approval to leave the phone');
    const shown = { questions: new Set<string>(), approvals: new Set(Object.keys(detail(threadId).approvals)) };
    expect(refusedFor(responsesStore.get(), threadId, shown)).toEqual([refused]);
    expect(nextToSend(responsesStore.get())).toBeUndefined();
    await taskEnded(threadId, 'done');
    await discard(refused.id);
  }, 60_000);

  it('words typed to deny an action the computer refuses (decided elsewhere meanwhile) go to the thread as a message', async () => {
    const threadId = await startThread(
      'Echo a third thing',
      reply(toolUse('shell', { argv: ['echo', 'ran-anyway'] })),
      reply(text('Ran it.')),
    );
    const a = await pendingApproval(threadId);
    await goOffline();
    const note = 'Stop, only list the folder';
    await enqueueDecision({ threadId, approvalId: a.id, hash: a.hash, decision: 'deny', summary: a.summary, note });
    await checker.send({ type: 'approval.decide', approvalId: a.id, hash: a.hash, decision: 'approve' });
    await taskEnded(threadId, 'done');
    model.push(reply(text('Listed it instead.')));

    await goOnline();
    const refused = await until(
      () => responsesStore.get().find((e) => e.state === 'failed'),
      'the denial to come back refused',
    );
    expect(refused.error).toMatch(/already decided.*Your words were sent as a message instead\./);
    // Not lost: the thread's next task is those words, sent once.
    const next = await checker.event(
      'task.updated',
      (e) => e.task.threadId === threadId && e.task.id !== a.taskId && e.task.state === 'done',
      20_000,
    );
    expect(next.task.state).toBe('done');
    await until(() => outboxStore.get().length === 0, 'the message to leave the outbox');
    const toModel = JSON.stringify(model.requests.at(-1)?.body.messages.at(-1));
    expect(toModel).toContain(note);
    await discard(refused.id);
  }, 60_000);
});
