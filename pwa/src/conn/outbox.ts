// The outbox: messages are written to IndexedDB before anything else, shown as pending, and sent
// when the host is reachable — each with its own command id, reused on every resend, so the host
// runs it exactly once even if a reply was lost or the app restarted mid-send. Importing this does
// nothing: main.tsx reads the saved outbox (loadOutbox) and starts sending (startOutbox).

import { idb } from '../lib/idb.js';
import { newId } from '../lib/ids.js';
import { appStore, authStore } from '../state/app.js';
import { createStore } from '../state/store.js';
import { isOnline, onSynced, request } from './connection.js';
import { upload } from './http.js';
import { isRetryable, nextToSend, type OutboxEntry, toCommand } from './outbox-logic.js';
import { CommandFailed } from './types.js';

export type { OutboxEntry };
export const outboxStore = createStore<OutboxEntry[]>([]);
/** Threads created from the outbox: pending id → real thread id, for navigation. */
export const createdStore = createStore<Record<string, string>>({});

export async function loadOutbox(): Promise<void> {
  const all = await idb.all<OutboxEntry>('outbox');
  outboxStore.set(all.sort((a, b) => a.createdAt - b.createdAt));
}

async function persist(e: OutboxEntry): Promise<void> {
  await idb.put('outbox', e.id, e);
  outboxStore.set((list) =>
    list.some((x) => x.id === e.id) ? list.map((x) => (x.id === e.id ? e : x)) : [...list, e],
  );
}

async function remove(id: string): Promise<void> {
  await idb.del('outbox', id);
  outboxStore.set((list) => list.filter((x) => x.id !== id));
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
  try {
    for (;;) {
      if (!isOnline()) return;
      let e = nextToSend(outboxStore.get());
      if (!e) return;
      try {
        while (e.files.length) {
          const [file, ...rest] = e.files;
          const up = await upload(file.blob, file.name, file.type);
          e = { ...e, files: rest, uploaded: [...e.uploaded, { id: up.id, name: up.name }] };
          await persist(e);
        }
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
          const { id: _id, ...rest } = cmd;
          await request(rest, { id: e.id });
        }
        await remove(e.id);
      } catch (err) {
        const code = err instanceof CommandFailed ? err.code : 'internal';
        if (isRetryable(code)) {
          clearTimeout(retryTimer);
          retryTimer = setTimeout(() => void flush(), 5000);
          return;
        }
        await persist({ ...e, state: 'failed', error: (err as Error).message });
      }
    }
  } finally {
    flushing = false;
  }
}

/** Send what waits after each (re)sync (called once, from main.tsx). */
export function startOutbox(): () => void {
  return onSynced(() => void flush());
}
