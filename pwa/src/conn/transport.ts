// The one owner of the WebSocket: opens it (or adopts a preopened one), says who we are, validates
// every frame, answers requests by id, proves the link alive with a heartbeat, and reconnects with a
// backoff table. What the frames mean to the app (resume point, state, what to fetch after a sync)
// is the session's business (connection.ts), handed in through `Session`.
import { CloseCode } from '../../../shared/src/close-codes.js';
import type { CommandType, Device, ServerFrame } from '../../../shared/src/index.js';
import { newId } from '../lib/ids.js';
import { connStore } from '../state/app.js';
import { CommandFailed, type CommandInput, type ResultOf } from './types.js';

export const BACKOFF_MS = [500, 1000, 2000, 5000, 10_000, 30_000];
const REQUEST_TIMEOUT_MS = 30_000;

/** How long the link may stay silent. A page may shorten these before the app loads (tests do). */
interface Timings {
  /** A ping this often while online… */
  pingEveryMs: number;
  /** …that must be answered within this. */
  pingTimeoutMs: number;
  /** A poke (foreground, network back) proves an open-looking socket alive within this. */
  pokeTimeoutMs: number;
  /** From creating the socket to its opening, and from opening to the end of the replay. */
  syncTimeoutMs: number;
}
const T: Timings = (() => {
  const t: Timings = { pingEveryMs: 20_000, pingTimeoutMs: 10_000, pokeTimeoutMs: 5000, syncTimeoutMs: 15_000 };
  const given = (globalThis as { __errandTimings?: Partial<Record<keyof Timings, unknown>> }).__errandTimings;
  for (const k of Object.keys(t) as (keyof Timings)[]) {
    const v = given?.[k];
    if (typeof v === 'number' && v > 0 && v < 600_000) t[k] = v;
  }
  return t;
})();

/** Frames that carry state: the session applies them. */
export type StateFrame = Extract<ServerFrame, { type: 'event' | 'snapshot' }>;

/** What the transport needs from the sync policy above it. */
export interface Session {
  /** The pairing's token, or nothing when unpaired (then no socket is opened). */
  token(): string | undefined;
  /** The last sequence number applied: the host replays what came after it. */
  lastSeq(): number;
  /** The `at` of that event, when known: the host checks it is its own event of that number. */
  lastAt(): number | undefined;
  /** The host accepted us. False: our cache describes something else; reconnect (from the new lastSeq). */
  authed(hostId: string, seq: number, device: Device): boolean;
  /** A replayed or live event, or a snapshot, in order. */
  apply(f: StateFrame): void;
  /** The replay is over; requests work from now on. */
  synced(): void;
  /** The host refused this device (revoked, or its token unknown). */
  refused(reason: string): void;
}

type Validate = typeof import('./validate.js');
let validate: Validate | undefined;
export const loadValidation = (): Promise<Validate> => import('./validate.js').then((v) => (validate = v));

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: ReturnType<typeof setTimeout>;
  type: CommandType;
}

let session: Session | undefined;
let ws: WebSocket | undefined;
let synced = false;
let attempt = 0;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let pingTimer: ReturnType<typeof setInterval> | undefined;
let syncTimer: ReturnType<typeof setTimeout> | undefined;
const pending = new Map<string, Pending>();

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
  if (!session?.token()) return;
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
  synced = false;
}

/**
 * What follows the end of a socket, whether its close event came or we gave up on it: nothing of it
 * reaches the app any more, what waited for an answer fails as retryable ("offline"), and a
 * reconnect is scheduled, unless the host refused this device.
 */
function lost(s: Session, code?: number, reason = ''): void {
  teardown();
  failPending("The connection to your computer closed. Try again when it's back.");
  if (code === CloseCode.revoked || code === CloseCode.unauthorized) {
    connStore.set({ status: 'revoked', reason });
    s.refused(reason);
    return;
  }
  scheduleReconnect();
}

/**
 * Give up on this socket now (no answer, no network). A dead link may hold a closing socket for
 * minutes before its close event comes, if ever: it is not waited for. Late events of this socket
 * find their handlers gone, and every handler checks it is still the current socket anyway.
 */
function abandon(sock: WebSocket): void {
  if (ws !== sock || !session) return;
  lost(session);
}

function connect(): void {
  clearTimeout(retryTimer);
  const token = session?.token();
  if (!session || !token) {
    connStore.set({ status: 'unpaired' });
    return;
  }
  const s = session;
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
  // A socket that neither opens nor finishes its replay in time is on a dead or stuck link.
  const giveUpUnlessSynced = () => {
    clearTimeout(syncTimer);
    syncTimer = setTimeout(() => {
      if (!synced) abandon(sock);
    }, T.syncTimeoutMs);
  };
  giveUpUnlessSynced();
  sock.onopen = () => {
    if (ws !== sock) return;
    const lastSeq = s.lastSeq();
    const lastAt = lastSeq > 0 ? s.lastAt() : undefined;
    sock.send(JSON.stringify({ type: 'auth', token, lastSeq, ...(lastAt !== undefined && { lastAt }), protocol: 1 }));
    giveUpUnlessSynced();
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
    onFrame(s, parsed.data);
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
    lost(s, e.code, e.reason);
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

function onFrame(s: Session, f: ServerFrame): void {
  switch (f.type) {
    case 'auth.ok':
      // Not ours to use: close, and the reconnect resumes from what the session says then.
      if (!s.authed(f.hostId, f.seq, f.device)) ws?.close();
      return;
    case 'event':
    case 'snapshot':
      s.apply(f);
      return;
    case 'synced':
      clearTimeout(syncTimer);
      synced = true;
      attempt = 0;
      connStore.set((c) => ({ ...c, status: 'online', retryAt: undefined, reason: undefined }));
      startHeartbeat();
      s.synced();
      return;
    case 'reply':
      settle(f.id, f.result);
      return;
    case 'error':
      if (f.id) settle(f.id, new CommandFailed(f.code, f.message));
      else console.warn('errand: host error', f.code, f.message);
      return;
    default: {
      // Every frame type is handled above: a new one fails to compile here until it is.
      const _never: never = f;
      return;
    }
  }
}

function startHeartbeat(): void {
  clearInterval(pingTimer);
  pingTimer = setInterval(() => {
    const sock = ws;
    if (!sock || !synced) return;
    const t = setTimeout(() => abandon(sock), T.pingTimeoutMs);
    // Any answer (even an error frame) proves the link is alive; only silence drops it.
    request({ type: 'ping' }, { timeoutMs: T.pingTimeoutMs }).then(
      () => clearTimeout(t),
      (e: unknown) => {
        if (!(e instanceof CommandFailed) || (e.code !== 'timeout' && e.code !== 'offline')) clearTimeout(t);
      },
    );
  }, T.pingEveryMs);
}

export function request<C extends CommandInput>(
  cmd: C,
  opts: { id?: string; timeoutMs?: number } = {},
): Promise<ResultOf<C['type']>> {
  type T = C['type'];
  const sock = ws;
  if (!sock || !synced || sock.readyState !== WebSocket.OPEN) {
    return Promise.reject(
      new CommandFailed('offline', "Can't reach your computer right now. Try again when it's back."),
    );
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

/**
 * Reconnect now if the socket is gone; if it looks open, prove it with a quick ping. When the
 * network came back, a socket still connecting was started on the old one: start again at once.
 */
export function pokeTransport(networkBack = false): void {
  if (!session?.token()) return;
  if (!ws || ws.readyState > WebSocket.OPEN || (networkBack && !synced)) {
    attempt = 0;
    connect();
    return;
  }
  // A socket that looks open may have died while the phone slept.
  if (synced) {
    const sock = ws;
    request({ type: 'ping' }, { timeoutMs: T.pokeTimeoutMs }).catch((e: unknown) => {
      if (e instanceof CommandFailed && e.code === 'timeout') abandon(sock);
    });
  }
}

/**
 * The browser says the network is gone: the socket cannot be alive, and its close event may not
 * come for minutes. Say so now, and keep retrying (with the backoff) until the network is back.
 */
export function networkLost(): void {
  if (ws) abandon(ws);
}

/** Connect for this session (replacing any connection), and keep reconnecting until closeTransport. */
export function openTransport(s: Session): void {
  session = s;
  connect();
}

/** Drop the connection and stop reconnecting (after unpairing). */
export function closeTransport(): void {
  session = undefined;
  clearTimeout(retryTimer);
  teardown();
  failPending('Disconnected.');
}
