// Keeping the app in step with the host, over the transport (transport.ts, the one owner of the
// socket). Components never touch the socket: they call `request()` and read the stores. This module
// decides where a reconnect resumes (the last sequence number applied), drops a cache that describes
// another host, applies events, re-fetches what the app shows after a sync, and tells the rest of
// the app (outbox, receipts, push keys) through onSynced. Nothing runs until start().
import type { Device, ServerEvent } from '../../../shared/src/index.js';
import { isActiveTaskState } from '../../../shared/src/task-states.js';
import { appStore, authStore, connStore, forgetPairing, saveNow } from '../state/app.js';
import { applySequenced, applySnapshot, cacheIsStale, emptyState, markAllSeen, setDetail } from '../state/model.js';
import {
  closeTransport,
  networkLost,
  openTransport,
  pokeTransport,
  request,
  type Session,
  type StateFrame,
} from './transport.js';

export {
  BACKOFF_MS,
  dropPreconnect,
  isOnline,
  loadValidation,
  preconnect,
  request,
} from './transport.js';

/**
 * Threads whose cached history may hold what only a live connection saw: text streamed by a task
 * that was still active when the connection dropped, which a crashed computer never kept. Fetched
 * anew the next time they are shown, so the phone shows what the computer holds.
 */
const unsure = new Set<string>();

function markUnsure(): void {
  for (const [threadId, d] of Object.entries(appStore.get().details))
    if (Object.values(d.tasks).some((t) => isActiveTaskState(t.state))) unsure.add(threadId);
}

let started = false;
let listening = false;
let firstSync = false;
const syncListeners = new Set<() => void>();
const eventListeners = new Set<(ev: ServerEvent) => void>();

/** Called after each successful (re)sync: outbox flush, refreshing the open thread, presence. */
export function onSynced(fn: () => void): () => void {
  syncListeners.add(fn);
  return () => syncListeners.delete(fn);
}
export function onEvent(fn: (ev: ServerEvent) => void): () => void {
  eventListeners.add(fn);
  return () => eventListeners.delete(fn);
}

const session: Session = {
  token: () => authStore.get()?.token,
  lastSeq: () => appStore.get().lastSeq,
  lastAt: () => appStore.get().lastAt,
  authed(hostId: string, seq: number, device: Device): boolean {
    const s = appStore.get();
    // Another host, or a host whose log is behind what we saw: our cache describes something else.
    if (cacheIsStale(s, hostId, seq)) {
      appStore.set({ ...emptyState(), hostId, seen: s.hostId === hostId ? s.seen : {} });
      // Reconnect from zero so the replay rebuilds the state.
      return false;
    }
    firstSync = s.lastSeq === 0;
    markUnsure();
    appStore.set((st) => ({ ...st, hostId }));
    connStore.set((c) => ({ ...c, device }));
    return true;
  },
  apply(f: StateFrame): void {
    if (f.type === 'snapshot') {
      appStore.set((s) => applySnapshot(s, f.seq, f.threads, f.at));
      return;
    }
    appStore.set((s) => applySequenced(s, f.seq, f.event, f.at));
    // Interrupted is what a stopped or crashed computer makes of a task it was running.
    if (f.event.kind === 'task.updated' && f.event.task.state === 'interrupted') unsure.add(f.event.task.threadId);
    for (const fn of eventListeners) fn(f.event);
  },
  synced(): void {
    void afterSync();
  },
  refused(): void {
    void forgetPairing();
  },
};

async function afterSync(): Promise<void> {
  if (firstSync) {
    firstSync = false;
    try {
      const threads = await request({ type: 'threads.list' });
      appStore.set((s) =>
        markAllSeen({ ...s, threads: { ...s.threads, ...Object.fromEntries(threads.map((t) => [t.id, t])) } }),
      );
    } catch {
      /* the next sync tries again */
    }
  }
  void saveNow();
  for (const fn of syncListeners) fn();
  request({ type: 'status.get' })
    .then((host) => appStore.set((s) => ({ ...s, host })))
    .catch(() => undefined);
}

/** Fetch a thread's history, unless we hold it already and are sure of it (kept current by events since). */
export async function loadThread(threadId: string, force = false): Promise<void> {
  if (!force && appStore.get().details[threadId] && !unsure.has(threadId)) return;
  unsure.delete(threadId);
  try {
    const r = await request({ type: 'thread.get', threadId });
    appStore.set((s) => setDetail(s, r));
  } catch (err) {
    if (appStore.get().details[threadId]) unsure.add(threadId);
    throw err;
  }
}

/** Pulled to refresh: reconnect if needed, then fetch the thread list and the computer's status anew. */
export async function refresh(): Promise<void> {
  poke();
  const threads = await request({ type: 'threads.list' });
  appStore.set((s) => ({ ...s, threads: { ...s.threads, ...Object.fromEntries(threads.map((t) => [t.id, t])) } }));
  const host = await request({ type: 'status.get' });
  appStore.set((s) => ({ ...s, host }));
}

/** Try to reconnect now (app back in the foreground, network back). */
export function poke(): void {
  if (started) pokeTransport();
}

/** Connect (once paired) and keep connected: reconnect when the network or the app comes back. */
export function start(): void {
  if (started) {
    poke();
    return;
  }
  started = true;
  if (!listening) {
    listening = true;
    // The network came back: reconnect at once (not at the end of the backoff).
    addEventListener('online', () => {
      if (started) pokeTransport(true);
    });
    // It went away: the socket is dead even if it looks open, and its close event may take minutes.
    addEventListener('offline', () => {
      if (started) networkLost();
    });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') poke();
      else void saveNow();
    });
    addEventListener('pagehide', () => void saveNow());
  }
  openTransport(session);
}

/** Drop the connection (after unpairing). */
export function stop(): void {
  started = false;
  closeTransport();
}
