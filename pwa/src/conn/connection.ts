// The one owner of the WebSocket. Components never touch the socket: they call `request()` and read
// the stores. Reconnects with a backoff table, resumes from the last sequence number it applied,
// detects a dead link with its own heartbeat, and hands the outbox its chance after every sync.
import type { CommandType, ServerEvent, ServerFrame } from '../../../shared/src/index.js';
import { newId } from '../lib/ids.js';
import { appStore, authStore, connStore, forgetPairing, saveNow } from '../state/app.js';
import { applySequenced, applySnapshot, cacheIsStale, emptyState, markAllSeen, setDetail } from '../state/model.js';
import { CommandFailed, type CommandInput, type ResultOf } from './types.js';

export const BACKOFF_MS = [500, 1000, 2000, 5000, 10_000, 30_000];
const PING_EVERY_MS = 20_000;
const PING_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** From opening the socket to the end of the replay; longer means a dead or stuck link. */
const SYNC_TIMEOUT_MS = 15_000;

type Validate = typeof import('./validate.js');
let validate: Validate | undefined;
export const loadValidation = (): Promise<Validate> => import('./validate.js').then((v) => (validate = v));

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
  type: CommandType;
}

let ws: WebSocket | undefined;
let authed = false;
let synced = false;
let attempt = 0;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let pingTimer: ReturnType<typeof setInterval> | undefined;
let syncTimer: ReturnType<typeof setTimeout> | undefined;
let started = false;
let firstSync = false;
const pending = new Map<string, Pending>();
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

export const isOnline = (): boolean => synced && ws?.readyState === WebSocket.OPEN;

function wsUrl(): string {
  // Always our own origin: the app never takes a server address from a link or from storage.
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
}

function failPending(reason: string): void {
  for (const [id, p] of pending) {
    clearTimeout(p.timer);
    p.reject(new CommandFailed('offline', reason));
    pending.delete(id);
  }
}

function heard(): void {
  connStore.set((c) => ({ ...c, lastSeenAt: Date.now() }));
}

function scheduleReconnect(): void {
  clearTimeout(retryTimer);
  if (!authStore.get()) return;
  const delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
  attempt++;
  connStore.set((c) => ({ ...c, status: 'offline', retryAt: Date.now() + delay }));
  retryTimer = setTimeout(connect, delay);
}

/** A socket opened while the app still reads its pairing from storage (see preconnect). */
let preopened: WebSocket | undefined;

/**
 * Open the socket at once, before the pairing is read from storage: the handshake's round trip
 * overlaps that reading. The first connect() adopts it; without a pairing it is closed unused.
 */
export function preconnect(): void {
  if (preopened || ws || typeof WebSocket === 'undefined') return;
  try {
    preopened = new WebSocket(wsUrl());
  } catch {
    preopened = undefined;
  }
}

/** The preopened socket, if it is still usable (and drop it either way). */
function takePreopened(): WebSocket | undefined {
  const sock = preopened;
  preopened = undefined;
  if (sock && sock.readyState <= WebSocket.OPEN) return sock;
  return undefined;
}

/** Close a preopened socket nobody will use (no pairing). */
export function dropPreconnect(): void {
  takePreopened()?.close();
}

function teardown(): void {
  clearInterval(pingTimer);
  pingTimer = undefined;
  clearTimeout(syncTimer);
  if (ws) {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      ws.close();
    } catch {
      /* already closed */
    }
  }
  ws = undefined;
  authed = false;
  synced = false;
}

async function connect(): Promise<void> {
  clearTimeout(retryTimer);
  const auth = authStore.get();
  if (!auth) {
    connStore.set({ status: 'unpaired' });
    return;
  }
  teardown();
  // The validation code loads beside the connect, not before it: the socket opens at once, and frames
  // that arrive before it is ready wait for it, in order. Nothing unvalidated is ever applied.
  const ready = validate ? Promise.resolve(validate) : loadValidation();
  ready.catch(() => undefined); // a failed load is handled where frames wait for it
  connStore.set((c) => ({
    ...c,
    status: c.status === 'online' ? 'offline' : c.status === 'loading' ? 'connecting' : c.status,
    retryAt: undefined,
  }));
  const sock = takePreopened() ?? new WebSocket(wsUrl());
  ws = sock;
  sock.onopen = () => {
    sock.send(JSON.stringify({ type: 'auth', token: auth.token, lastSeq: appStore.get().lastSeq, protocol: 1 }));
    syncTimer = setTimeout(() => {
      if (ws === sock && !synced) sock.close();
    }, SYNC_TIMEOUT_MS);
  };
  // A preopened socket may be open already: say who we are now.
  if (sock.readyState === WebSocket.OPEN) sock.onopen(new Event('open'));
  const early: string[] = [];
  const handle = (data: string) => {
    let raw: unknown;
    try {
      raw = JSON.parse(data);
    } catch {
      return;
    }
    const parsed = validate!.ServerFrame.safeParse(raw);
    if (!parsed.success) {
      console.warn('errand: ignoring an invalid frame', parsed.error.issues[0]);
      const id = (raw as { id?: unknown })?.id;
      if (typeof id === 'string')
        settle(id, new CommandFailed('bad_response', 'The host sent a reply this app cannot read.'));
      return;
    }
    onFrame(parsed.data);
  };
  sock.onmessage = (m) => {
    if (ws !== sock) return;
    heard();
    if (!validate || early.length > 0) {
      early.push(String(m.data));
      if (early.length === 1)
        ready.then(
          () => {
            // Frames keep arriving while earlier ones are handled: drain until none is left.
            while (ws === sock && early.length > 0) handle(early.shift()!);
            early.length = 0;
          },
          () => {
            // The app's own code could not load (offline mid-update): start over.
            if (ws === sock) sock.close();
          },
        );
      return;
    }
    handle(String(m.data));
  };
  sock.onclose = (e) => {
    if (ws !== sock) return;
    const _wasAuthed = authed;
    teardown();
    failPending('The connection to your computer closed.');
    // CloseCode.revoked (4001) and .unauthorized (4003) from shared/src/protocol/frames.ts, written out
    // here because that module brings zod, which the app loads lazily.
    if (e.code === 4001 || e.code === 4003) {
      connStore.set({ status: 'revoked', reason: e.reason });
      void forgetPairing();
      return;
    }
    scheduleReconnect();
  };
}

function settle(id: string, result: unknown): void {
  const p = pending.get(id);
  if (!p) return;
  pending.delete(id);
  clearTimeout(p.timer);
  if (result instanceof Error) {
    p.reject(result);
    return;
  }
  const schema = (validate!.results as Record<string, { safeParse(v: unknown): { success: boolean; data?: unknown } }>)[
    p.type
  ];
  if (!schema) {
    p.resolve(result);
    return;
  }
  const r = schema.safeParse(result);
  if (r.success) p.resolve(r.data);
  else {
    console.warn(
      `errand: unreadable reply to ${p.type}`,
      JSON.stringify((r as { error?: { issues?: unknown } }).error?.issues ?? '').slice(0, 500),
    );
    p.reject(new CommandFailed('bad_response', 'The host sent a reply this app cannot read.'));
  }
}

function onFrame(f: ServerFrame): void {
  switch (f.type) {
    case 'auth.ok': {
      authed = true;
      const s = appStore.get();
      // Another host, or a host whose log is behind what we saw: our cache describes something else.
      if (cacheIsStale(s, f.hostId, f.seq)) {
        appStore.set({ ...emptyState(), hostId: f.hostId, seen: s.hostId === f.hostId ? s.seen : {} });
        // Reconnect from zero so the replay rebuilds the state.
        ws?.close();
        return;
      }
      firstSync = s.lastSeq === 0;
      appStore.set((st) => ({ ...st, hostId: f.hostId }));
      connStore.set((c) => ({ ...c, device: f.device }));
      return;
    }
    case 'event':
      appStore.set((s) => applySequenced(s, f.seq, f.event));
      for (const fn of eventListeners) fn(f.event);
      return;
    case 'snapshot':
      appStore.set((s) => applySnapshot(s, f.seq, f.threads));
      return;
    case 'synced':
      clearTimeout(syncTimer);
      synced = true;
      attempt = 0;
      connStore.set((c) => ({ ...c, status: 'online', retryAt: undefined, reason: undefined }));
      void afterSync();
      return;
    case 'reply':
      settle(f.id, f.result);
      return;
    case 'error':
      if (f.id) settle(f.id, new CommandFailed(f.code, f.message));
      else console.warn('errand: host error', f.code, f.message);
      return;
  }
}

async function afterSync(): Promise<void> {
  startHeartbeat();
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

function startHeartbeat(): void {
  clearInterval(pingTimer);
  pingTimer = setInterval(() => {
    const sock = ws;
    if (!sock || !synced) return;
    const t = setTimeout(() => {
      if (ws === sock) sock.close();
    }, PING_TIMEOUT_MS);
    // Any answer (even an error frame) proves the link is alive; only silence closes it.
    request({ type: 'ping' }, { timeoutMs: PING_TIMEOUT_MS }).then(
      () => clearTimeout(t),
      (e: unknown) => {
        if (!(e instanceof CommandFailed) || (e.code !== 'timeout' && e.code !== 'offline')) clearTimeout(t);
      },
    );
  }, PING_EVERY_MS);
}

export function request<C extends CommandInput>(
  cmd: C,
  opts: { id?: string; timeoutMs?: number } = {},
): Promise<ResultOf<C['type']>> {
  type T = C['type'];
  const sock = ws;
  if (!sock || !synced || sock.readyState !== WebSocket.OPEN) {
    return Promise.reject(new CommandFailed('offline', "Can't reach your computer right now."));
  }
  const id = opts.id ?? newId();
  return new Promise<ResultOf<T>>((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new CommandFailed('timeout', 'Your computer did not answer in time.'));
    }, opts.timeoutMs ?? REQUEST_TIMEOUT_MS);
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, type: cmd.type as CommandType });
    sock.send(JSON.stringify({ ...cmd, id }));
  });
}

/** Fetch a thread's history, unless we hold it already (kept current by events since). */
export async function loadThread(threadId: string, force = false): Promise<void> {
  if (!force && appStore.get().details[threadId]) return;
  const r = await request({ type: 'thread.get', threadId });
  appStore.set((s) => setDetail(s, r));
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
  if (!started || !authStore.get()) return;
  if (!ws || ws.readyState > WebSocket.OPEN) {
    attempt = 0;
    void connect();
    return;
  }
  // A socket that looks open may have died while the phone slept: prove it with a quick ping.
  if (synced) {
    const sock = ws;
    request({ type: 'ping' }, { timeoutMs: 5000 }).catch((e: unknown) => {
      if (e instanceof CommandFailed && e.code === 'timeout' && ws === sock) sock.close();
    });
  }
}

export function start(): void {
  if (started) {
    poke();
    return;
  }
  started = true;
  addEventListener('online', poke);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') poke();
    else void saveNow();
  });
  addEventListener('pagehide', () => void saveNow());
  void connect();
}

/** Drop the connection (after unpairing). */
export function stop(): void {
  started = false;
  clearTimeout(retryTimer);
  teardown();
  failPending('Disconnected.');
}
