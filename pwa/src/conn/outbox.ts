// The outbox: messages, and the person's responses to what the agent waits on (an answer to its
// question, an approval decision), are written to IndexedDB before anything else, shown as pending,
// and sent when the host is reachable — each with its own command id, reused on every resend, so the
// host runs it exactly once even if a reply was lost or the app restarted mid-send. Importing this
// does nothing: main.tsx reads the saved outbox (loadOutbox) and starts sending (startOutbox).

import { idb } from '../lib/idb.js';
import { newId } from '../lib/ids.js';
import { decidedInApp } from '../lib/thread-notifications.js';
import { appStore, authStore } from '../state/app.js';
import { createStore } from '../state/store.js';
import { isOnline, onSynced, request } from './connection.js';
import { upload } from './http.js';
import {
  type AnswerEntry,
  answerFor,
  type Decision,
  type DecisionEntry,
  decisionFor,
  isRetryable,
  nextToSend,
  type OutboxEntry,
  type QueuedEntry,
  type ResponseEntry,
  toCommand,
} from './outbox-logic.js';
import { CommandFailed } from './types.js';

export type { AnswerEntry, DecisionEntry, OutboxEntry, ResponseEntry };
/** Messages waiting to be sent (or not sent, with why). */
export const outboxStore = createStore<OutboxEntry[]>([]);
/** Answers and approval decisions waiting to be sent (or refused, with why); shown on their cards. */
export const responsesStore = createStore<ResponseEntry[]>([]);
/** Threads created from the outbox: pending id → real thread id, for navigation. */
export const createdStore = createStore<Record<string, string>>({});

const isResponse = (e: QueuedEntry): e is ResponseEntry => e.type === 'task.answer' || e.type === 'approval.decide';

export async function loadOutbox(): Promise<void> {
  const all = (await idb.all<QueuedEntry>('outbox')).sort((a, b) => a.createdAt - b.createdAt);
  outboxStore.set(all.filter((e): e is OutboxEntry => !isResponse(e)));
  responsesStore.set(all.filter(isResponse));
}

function upsert<E extends QueuedEntry>(list: E[], e: E): E[] {
  return list.some((x) => x.id === e.id) ? list.map((x) => (x.id === e.id ? e : x)) : [...list, e];
}

/**
 * Bumped when the pairing is forgotten (unpaired, or revoked by the computer): what was queued for
 * that computer is dropped, and a send in flight then writes nothing back, so nothing queued for one
 * pairing ever goes to the next computer paired without a reload.
 */
let pairing = 0;

function dropQueued(): void {
  pairing++;
  clearTimeout(retryTimer);
  retryTimer = undefined;
  outboxStore.set([]);
  responsesStore.set([]);
  createdStore.set({});
}

async function persist(e: QueuedEntry): Promise<void> {
  await idb.put('outbox', e.id, e);
  if (isResponse(e)) responsesStore.set((list) => upsert(list, e));
  else outboxStore.set((list) => upsert(list, e));
}

async function remove(id: string): Promise<void> {
  await idb.del('outbox', id);
  outboxStore.set((list) => (list.some((x) => x.id === id) ? list.filter((x) => x.id !== id) : list));
  responsesStore.set((list) => (list.some((x) => x.id === id) ? list.filter((x) => x.id !== id) : list));
}

/** Queue a message; returns its entry (id doubles as the pending thread's id for a new thread). */
export async function enqueue(input: { threadId?: string; text: string; files: File[] }): Promise<OutboxEntry> {
  const e: OutboxEntry = {
    id: newId('m'),
    createdAt: Date.now(),
    type: input.threadId ? 'thread.send' : 'thread.create',
    threadId: input.threadId,
    text: input.text,
    files: input.files.map((f) => ({ name: f.name, type: f.type || 'application/octet-stream', blob: f })),
    uploaded: [],
    state: 'pending',
  };
  await persist(e);
  void flush();
  return e;
}

/**
 * Questions and approvals whose response is being written now: a second tap before the first is
 * written is the same response, not another one the host would refuse.
 */
const writing = new Map<string, Promise<ResponseEntry>>();

function writeOnce<E extends ResponseEntry>(key: string, write: () => Promise<E>): Promise<E> {
  const busy = writing.get(key);
  if (busy) return busy as Promise<E>;
  const p = write().finally(() => writing.delete(key));
  writing.set(key, p);
  return p;
}

/**
 * Queue the answer to an open question: the agent waits for it, so a moment offline must not lose
 * it. One already on its way for the question stays the one sent (the host takes one answer per
 * question); one the host refused gives way to this one.
 */
export async function enqueueAnswer(input: {
  threadId: string;
  taskId: string;
  questionId: string;
  text: string;
}): Promise<AnswerEntry> {
  return writeOnce(input.questionId, async () => {
    const before = answerFor(responsesStore.get(), input.questionId);
    if (before?.state === 'pending') return before;
    if (before) await remove(before.id);
    const e: AnswerEntry = { id: newId('a'), createdAt: Date.now(), type: 'task.answer', ...input, state: 'pending' };
    await persist(e);
    void flush();
    decidedInApp(input.threadId);
    return e;
  });
}

/**
 * Queue an Approve, Deny or Allow for this task. Sending it late is safe: it names the exact action
 * (its hash) and the host takes one decision per approval, so one that expired or was decided
 * elsewhere meanwhile comes back refused, and the person is told.
 */
export async function enqueueDecision(input: {
  threadId: string;
  approvalId: string;
  hash: string;
  decision: Decision;
  summary: string;
  note?: string;
}): Promise<DecisionEntry> {
  return writeOnce(input.approvalId, async () => {
    const before = decisionFor(responsesStore.get(), input.approvalId);
    if (before?.state === 'pending') return before;
    if (before) await remove(before.id);
    const e: DecisionEntry = {
      id: newId('d'),
      createdAt: Date.now(),
      type: 'approval.decide',
      ...input,
      state: 'pending',
    };
    await persist(e);
    void flush();
    decidedInApp(input.threadId);
    return e;
  });
}

export async function retry(id: string): Promise<void> {
  const e = outboxStore.get().find((x) => x.id === id);
  if (!e) return;
  await persist({ ...e, state: 'pending', error: undefined });
  void flush();
}

export const discard = (id: string): Promise<void> => remove(id);

let flushing = false;
let retryTimer: ReturnType<typeof setTimeout> | undefined;

export async function flush(): Promise<void> {
  if (flushing || !authStore.get()) return;
  flushing = true;
  const mine = pairing;
  try {
    for (;;) {
      if (!isOnline() || pairing !== mine) return;
      // In the order written: an answer goes before a follow-up typed after it.
      let e = nextToSend<QueuedEntry>([...outboxStore.get(), ...responsesStore.get()]);
      if (!e) return;
      try {
        if (e.type === 'thread.create' || e.type === 'thread.send') e = await uploadFiles(e, mine);
        const cmd = toCommand(e);
        if (cmd.type === 'thread.create') {
          const { id: _id, ...rest } = cmd;
          const r = await request(rest, { id: e.id });
          appStore.set((s) => ({
            ...s,
            threads: { ...s.threads, [r.thread.id]: r.thread },
            seen: { ...s.seen, [r.thread.id]: r.thread.updatedAt },
          }));
          createdStore.set((m) => ({ ...m, [`pending:${e!.id}`]: r.thread.id }));
        } else {
          // Sent before, its reply lost on the way: the same id gets the same reply, never a second run.
          const { id: _id, ...rest } = cmd;
          await request(rest, { id: e.id });
        }
        if (pairing !== mine) return;
        await remove(e.id);
      } catch (err) {
        if (pairing !== mine) return; // forgotten meanwhile: nothing goes back into the outbox
        const code = err instanceof CommandFailed ? err.code : 'internal';
        if (isRetryable(code)) {
          clearTimeout(retryTimer);
          retryTimer = setTimeout(() => void flush(), 5000);
          return;
        }
        // Refused for good (an answer to a question answered elsewhere, an approval that expired):
        // never sent again, and the host's reason is shown where the person looks.
        let error = (err as Error).message;
        if (e.type === 'approval.decide' && e.note) {
          // Words typed to stop or steer an action decided elsewhere meanwhile are never lost: they
          // go to the thread as a message of their own.
          await enqueue({ threadId: e.threadId, text: e.note, files: [] });
          error += ' Your words were sent as a message instead.';
        }
        await persist({ ...e, state: 'failed', error });
      }
    }
  } finally {
    flushing = false;
  }
}

/** Upload a message's files still waiting, recording each as it lands (never uploaded twice). */
async function uploadFiles(entry: OutboxEntry, mine: number): Promise<OutboxEntry> {
  let e = entry;
  while (e.files.length) {
    const [file, ...rest] = e.files;
    const up = await upload(file.blob, file.name, file.type);
    if (pairing !== mine) throw new Error('the pairing was forgotten');
    e = { ...e, files: rest, uploaded: [...e.uploaded, { id: up.id, name: up.name }] };
    await persist(e);
  }
  return e;
}

/** Send what waits after each (re)sync (called once, from main.tsx). */
export function startOutbox(): () => void {
  const offSynced = onSynced(() => void flush());
  const offAuth = authStore.subscribe(() => {
    if (!authStore.get()) dropQueued();
  });
  return () => {
    offSynced();
    offAuth();
  };
}
