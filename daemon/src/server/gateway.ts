// The WebSocket gateway: first-message authentication, replay from the client's last sequence
// number, validated commands with at-most-once effect, live events, heartbeats and revocation.
import crypto from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { WebSocket } from 'ws';
import {
  AUTH_DEADLINE_MS,
  AuthFrame,
  ClientCommand,
  CloseCode,
  MAX_PREAUTH_FRAME,
  MUTATING_COMMANDS,
  PROTOCOL_VERSION,
  type ServerFrame,
} from '../../../shared/src/index.js';
import type { Presence } from '../context.js';
import type { CommandLog } from '../store/commands.js';
import { type DeviceRecord, type DeviceStore, publicDevice } from '../store/devices.js';
import type { EventLog } from '../store/event-log.js';
import type { ThreadStore } from '../store/threads.js';
import type { Logger } from '../util/log.js';
import { commandFingerprint } from './command-fingerprint.js';
import { commandProblem } from './command-issue.js';
import { CommandError, type CommandRouter } from './command-router.js';
import { oldestOfBusiest } from './crowd.js';
import { DeviceRequests } from './device-requests.js';
import { frameShape } from './frame-shape.js';
import type { FailureLimiter } from './rate-limit.js';
import type { RefusalLog } from './refusals.js';
import { REPLAY_STALL_MS, ReplayStalled, replay } from './replay.js';
import { UnreadBytes } from './unread-bytes.js';

const HEARTBEAT_MS = 20_000;
/** Authenticated connections (phones, CLI clients) in all, and per device. Unauthenticated sockets are counted apart. */
const MAX_CONNECTIONS = 64;
const MAX_CONNECTIONS_PER_DEVICE = 8;
/** A device's sockets closed by the host that have not answered the close yet (each lasts CLOSE_GRACE_MS at most). */
const MAX_CLOSING_PER_DEVICE = 8;
/**
 * Sockets that have not authenticated yet: soft bounds in all and from one address (past them only a
 * socket older than PREAUTH_GRACE_MS makes room), and a hard bound that keeps their memory bounded
 * (each may hold PREAUTH_BYTES), the only one that closes a younger socket.
 */
const MAX_PREAUTH = 32;
const MAX_PREAUTH_PER_ADDRESS = 8;
const MAX_PREAUTH_HARD = 512;
/** Longer than any phone's round trip through a proxy: a socket this young may be the owner's. */
const PREAUTH_GRACE_MS = 3000;
/**
 * What a peer may leave unread: bytes in its socket's send buffer besides the replies it asked for
 * (unread-bytes.ts), and (while its replay runs) live events held back for after the replay. Past
 * either it is cut, and resumes from its last seq.
 */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/**
 * Bytes a connection may send before it authenticates: the upgrade request (headers, up to 16 KiB
 * as Node allows) and an auth frame of at most MAX_PREAUTH_FRAME.
 */
const PREAUTH_BYTES = 16 * 1024 + 4 * MAX_PREAUTH_FRAME;
/** How long a refused socket gets to say goodbye before it is cut. */
const CLOSE_GRACE_MS = 1000;
/**
 * Commands one connection may have under way at once; past it the next is refused (rate_limited)
 * until replies come. It bounds what a flood of small frames can hold (the heavy readers also take
 * turns daemon-wide, heavy-reads.ts); the phone sends one message at a time, scripts a few dozen.
 */
const MAX_IN_FLIGHT = 64;
/**
 * The same across all of one device's connections: closing a socket and opening another does not
 * make room, since its commands run on (a heavy read still waiting is dropped, heavy-reads.ts).
 * Connections themselves are never refused for it: a valid token always gets in.
 */
const MAX_IN_FLIGHT_PER_DEVICE = 64;
/** Half of a surrogate pair: text a model API refuses as JSON, so a task would fail long after the command. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Close with a reason the peer can read, and cut the connection if it does not answer the close
 * soon: a socket that never answers would otherwise be read from (and buffered) for 30 s.
 */
function closeNow(socket: WebSocket, code: number, reason: string): void {
  socket.close(code, reason);
  setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
}

const AUTH_FRAME_SHAPE = '{"type":"auth","token":…}';

/**
 * What is wrong with an auth frame that did not parse, as a close reason (at most 123 bytes) that
 * names the field to fix.
 */
function authFrameProblem(parsed: unknown, issue: { code: string; path: PropertyKey[] } | undefined): string {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !issue)
    return `first message must be ${AUTH_FRAME_SHAPE}`;
  if (issue.code === 'unrecognized_keys')
    return 'bad auth frame: only type, token, lastSeq and protocol are allowed (and lastAt with lastSeq)';
  if (issue.path[0] === 'lastSeq') return 'bad auth frame: lastSeq must be a whole number, 0 or more (or left out)';
  if (issue.path[0] === 'lastAt') return 'bad auth frame: lastAt must be a time in ms, a whole number (or left out)';
  if (issue.path[0] === 'protocol') return 'bad auth frame: protocol must be a whole number (or left out)';
  return `first message must be ${AUTH_FRAME_SHAPE}`;
}

/** Where a command holds text that is not well-formed UTF-16 ("text", "attachmentIds.0"), if it does. */
function illFormedField(value: unknown, at: string[] = []): string | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? at.join('.') || 'frame' : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const found = illFormedField(inner, [...at, key]);
    if (found) return found;
  }
  return undefined;
}

interface Connection {
  id: string;
  socket: WebSocket;
  /** What its socket holds unread, every write measured (sends go through it). */
  unread: UnreadBytes;
  address: string;
  device?: DeviceRecord;
  view: { threadId: string | null; foreground: boolean };
  /** It answered the last heartbeat ping (or has not been pinged yet). */
  alive: boolean;
  /** The last heartbeat ping's payload: only a pong carrying it proves the peer reads what it is sent. */
  pinged?: Buffer;
  /** Its socket holds writes until the end of this tick (cork). */
  corked?: boolean;
  /** Closed to make room for a newer connection: no longer counted, its messages ignored. */
  closing?: boolean;
  /** When it opened (performance.now()): how long it has had to authenticate. */
  openedAt: number;
  /** Its commands not answered yet (at most MAX_IN_FLIGHT). */
  inFlight: number;
  /** Aborted when it closes: its heavy reads still waiting are dropped. */
  gone: AbortController;
}

/** Timings tests shorten; the defaults are the daemon's. */
export interface GatewayTiming {
  heartbeatMs: number;
  replayStallMs: number;
}

export interface GatewayDeps {
  /** Where refused attempts are logged (rate-limited, no secrets). */
  refusals?: RefusalLog;
  devices: DeviceStore;
  events: EventLog;
  threads: ThreadStore;
  commands: CommandLog;
  router: CommandRouter;
  limiter: FailureLimiter;
  log: Logger;
  hostId: string;
  timing?: Partial<GatewayTiming>;
}

export class Gateway implements Presence {
  private connections = new Set<Connection>();
  /** Commands under way per device, over all its connections (at most MAX_IN_FLIGHT_PER_DEVICE). */
  private inFlightByDevice = new Map<string, number>();
  private readonly timing: GatewayTiming;
  /** Each device's HTTP requests under way (the app adds them once their token is checked). */
  readonly httpRequests = new DeviceRequests();
  private heartbeat: NodeJS.Timeout;
  private accepting = true;

  constructor(private readonly deps: GatewayDeps) {
    this.timing = { heartbeatMs: HEARTBEAT_MS, replayStallMs: REPLAY_STALL_MS, ...deps.timing };
    this.heartbeat = setInterval(() => this.beat(), this.timing.heartbeatMs);
    this.heartbeat.unref();
  }

  online(deviceId: string): boolean {
    for (const c of this.connections) if (c.device?.id === deviceId && !c.closing) return true;
    return false;
  }

  viewing(deviceId: string, threadId: string): boolean {
    for (const c of this.connections) {
      if (c.device?.id === deviceId && !c.closing && c.view.foreground && c.view.threadId === threadId) return true;
    }
    return false;
  }

  setView(connectionId: string, view: Connection['view']): void {
    for (const c of this.connections) if (c.id === connectionId) c.view = view;
  }

  private beat(): void {
    for (const c of this.connections) {
      if (!c.alive) {
        c.socket.terminate();
        continue;
      }
      c.alive = false;
      // A pong must carry this: one sent unasked (a peer that stopped reading can still send) proves nothing.
      const payload = crypto.randomBytes(8);
      c.pinged = payload;
      c.unread.write(() => c.socket.ping(payload));
    }
  }

  /** Its commands' work is no longer wanted: heavy reads still waiting for a turn are dropped. */
  private dropWork(conn: Connection): void {
    conn.gone.abort();
  }

  /** Unauthenticated sockets, oldest first. They can never crowd out a device that authenticates. */
  private preAuth = new Set<Connection>();

  /** Set while a soft bound is exceeded by young sockets: fires when the oldest of them turns stale. */
  private preAuthTimer: NodeJS.Timeout | undefined;

  // Every new socket is let in: the owner may share its address with a crowd (behind Tailscale
  // Serve or a proxy every peer is 127.0.0.1). Past a soft bound (MAX_PREAUTH_PER_ADDRESS from one
  // address, MAX_PREAUTH in all) only a socket older than PREAUTH_GRACE_MS makes room: the address's
  // oldest, or in all the oldest from the address holding the most. A younger one may be the owner's
  // with its auth frame a round trip away, so a crowd opening sockets faster than that round trip
  // can never close it. While every candidate is young the bound is exceeded, and enforced as they
  // age. Only MAX_PREAUTH_HARD, which bounds memory, closes a young socket (again the oldest from
  // the address holding the most): a crowd must then open 512 sockets within the owner's round trip.
  accept(socket: WebSocket, address: string): void {
    if (!this.accepting) {
      closeNow(socket, CloseCode.goingAway, 'shutting down');
      return;
    }
    const conn: Connection = {
      id: crypto.randomBytes(8).toString('hex'),
      socket,
      unread: new UnreadBytes(socket, MAX_BUFFERED_BYTES),
      address,
      view: { threadId: null, foreground: false },
      alive: true,
      openedAt: performance.now(),
      inFlight: 0,
      gone: new AbortController(),
    };
    // Each command waiting on a heavy read listens for it; the in-flight bound bounds them.
    setMaxListeners(MAX_IN_FLIGHT + 1, conn.gone.signal);
    this.connections.add(conn);
    this.preAuth.add(conn);
    this.trimPreAuth();
    let unsubscribe: (() => void) | undefined;
    const deadline = setTimeout(() => {
      if (!conn.device) closeNow(socket, CloseCode.policyViolation, 'authentication required within 5 seconds');
    }, AUTH_DEADLINE_MS);
    deadline.unref();
    // Before auth only a small frame is welcome: the connection's bytes are counted as they arrive
    // (the upgrade request's included), so a frame that declares a large size is cut, not buffered
    // in full (ws would hold up to MAX_FRAME per socket).
    const raw = (socket as unknown as { _socket?: NodeJS.EventEmitter & { bytesRead: number } })._socket;
    const countPreAuth = () => {
      if (conn.device) raw?.off('data', countPreAuth);
      else if ((raw?.bytesRead ?? 0) > PREAUTH_BYTES) socket.terminate();
    };
    raw?.on('data', countPreAuth);
    countPreAuth();
    socket.on('pong', (data: Buffer) => {
      if (conn.pinged?.equals(data)) conn.alive = true;
    });
    socket.on('close', () => {
      this.dropWork(conn);
      clearTimeout(deadline);
      unsubscribe?.();
      this.connections.delete(conn);
      this.preAuth.delete(conn);
    });
    socket.on('error', () => undefined);
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (conn.closing) return;
      conn.alive = true;
      if (!conn.device) {
        if (data.length > MAX_PREAUTH_FRAME || isBinary) {
          closeNow(socket, CloseCode.policyViolation, 'first message must be a small auth frame');
          return;
        }
        clearTimeout(deadline);
        unsubscribe = this.authenticate(conn, data.toString('utf8'));
        return;
      }
      // A command that throws is answered, never left to kill the process (an unhandled rejection).
      this.onCommand(conn, data.toString('utf8')).catch((err: unknown) => {
        this.deps.log.error('command failed', { error: err instanceof Error ? err.message : String(err) });
        this.send(conn, {
          type: 'error',
          code: 'internal',
          message: 'The host hit an internal error; see `errand logs`.',
        });
      });
    });
  }

  private dropPreAuth(conn: Connection): void {
    this.preAuth.delete(conn);
    conn.closing = true;
    // Its close frame goes out, then the socket: no closing handshake for a socket that never said
    // who it is (held for it, a flood kept every dropped socket open another second, far past the bounds).
    conn.socket.close(CloseCode.policyViolation, 'authentication required');
    setImmediate(() => conn.socket.terminate());
  }

  /**
   * Applies the bounds described above accept(). The set is oldest first: past its first young
   * socket none is stale. If young sockets keep a soft bound exceeded, it looks again when the
   * oldest of them turns stale, so the excess lasts at most PREAUTH_GRACE_MS without new arrivals.
   */
  private trimPreAuth(): void {
    const now = performance.now();
    const stale = (c: Connection) => now - c.openedAt >= PREAUTH_GRACE_MS;
    const byAddress = (c: Connection) => c.address;
    const fromAddress = new Map<string, number>();
    for (const c of this.preAuth) fromAddress.set(c.address, (fromAddress.get(c.address) ?? 0) + 1);
    for (const c of this.preAuth) {
      if (!stale(c)) break;
      const n = fromAddress.get(c.address)!;
      if (n <= MAX_PREAUTH_PER_ADDRESS) continue;
      this.dropPreAuth(c);
      fromAddress.set(c.address, n - 1);
    }
    const busiestStale = () => {
      const victim = oldestOfBusiest(this.preAuth, byAddress, stale);
      return victim && stale(victim) ? victim : undefined;
    };
    while (this.preAuth.size > MAX_PREAUTH) {
      const victim = busiestStale();
      if (!victim) break;
      this.dropPreAuth(victim);
      fromAddress.set(victim.address, fromAddress.get(victim.address)! - 1);
    }
    while (this.preAuth.size > MAX_PREAUTH_HARD) {
      const victim = oldestOfBusiest(this.preAuth, byAddress, stale)!;
      this.dropPreAuth(victim);
      fromAddress.set(victim.address, fromAddress.get(victim.address)! - 1);
    }
    const over = this.preAuth.size > MAX_PREAUTH || [...fromAddress.values()].some((n) => n > MAX_PREAUTH_PER_ADDRESS);
    if (!over || this.preAuthTimer) return;
    let nextStale: Connection | undefined;
    for (const c of this.preAuth)
      if (!stale(c)) {
        nextStale = c;
        break;
      }
    if (!nextStale) return;
    this.preAuthTimer = setTimeout(
      () => {
        this.preAuthTimer = undefined;
        if (this.accepting) this.trimPreAuth();
      },
      nextStale.openedAt + PREAUTH_GRACE_MS - now,
    );
    this.preAuthTimer.unref();
  }

  /**
   * Room for a device that just authenticated: past its own cap, its oldest socket goes; past the
   * global cap, the oldest socket of the device holding the most. So one device (a reconnect loop,
   * a stolen token) can never keep the owner's other devices out.
   */
  private makeRoomFor(device: DeviceRecord): void {
    const byDevice = new Map<string, Connection[]>();
    let live = 0;
    for (const c of this.connections) {
      if (!c.device || c.closing) continue;
      live++;
      const list = byDevice.get(c.device.id);
      if (list) list.push(c);
      else byDevice.set(c.device.id, [c]);
    }
    const mine = byDevice.get(device.id);
    let victim: Connection | undefined;
    if (mine && mine.length >= MAX_CONNECTIONS_PER_DEVICE) victim = mine[0];
    else if (live >= MAX_CONNECTIONS) {
      let busiest: Connection[] = [];
      for (const list of byDevice.values()) if (list.length > busiest.length) busiest = list;
      victim = busiest[0];
    }
    if (victim) this.evict(victim, CloseCode.goingAway, 'too many connections for this device; the newest one stays');
  }

  /**
   * Close a device's socket for good: its work is dropped and it is cut if it does not answer the
   * close within CLOSE_GRACE_MS. Sockets still closing count against their device: past
   * MAX_CLOSING_PER_DEVICE of them a socket is cut at once, so a reconnect loop whose sockets never
   * answer holds at most that many besides its live ones, however fast it reconnects.
   */
  private evict(conn: Connection, code: number, reason: string): void {
    conn.closing = true;
    this.dropWork(conn);
    let closing = 0;
    for (const c of this.connections) if (c.closing && c.device?.id === conn.device?.id) closing++;
    if (closing > MAX_CLOSING_PER_DEVICE) conn.socket.terminate();
    else closeNow(conn.socket, code, reason);
  }

  /**
   * `reply`: the peer asked for this frame (a command's answer, its resume's snapshot). However large,
   * it does not count against the bound while it leaves: a phone reading a long thread's history on
   * a slow link is not cut by an event that comes meanwhile.
   */
  private send(conn: Connection, frame: ServerFrame | string, reply = false): void {
    if (conn.socket.readyState !== conn.socket.OPEN) return;
    if (conn.unread.over()) {
      // A peer that cannot keep up reconnects and resumes from its last sequence number.
      this.cutBehind(conn, 'more than 8 MB wait unread besides the replies it asked for');
      return;
    }
    // A string is an event's frame, serialized once by the event log for every client.
    const text = typeof frame === 'string' ? frame : JSON.stringify(frame);
    this.cork(conn);
    conn.unread.write(() => conn.socket.send(text), reply);
  }

  /**
   * Frames sent in one turn of the event loop (a record's events, a reply) leave in one write:
   * each write on a socket is a system call, and a task's ten or so events would be ten.
   */
  private cork(conn: Connection): void {
    if (conn.corked) return;
    const raw = (conn.socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    if (!raw) return;
    conn.corked = true;
    raw.cork();
    process.nextTick(() => {
      conn.corked = false;
      raw.uncork();
    });
  }

  private authenticate(conn: Connection, text: string): (() => void) | undefined {
    const { limiter, devices, events, threads } = this.deps;
    this.preAuth.delete(conn);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const result = AuthFrame.safeParse(parsed);
    const frame = result.success ? result.data : undefined;
    // A valid device token always gets in, and only a token that is wrong counts against (and is
    // held back by) the failure budget: a flood of bad attempts cannot lock the owner out, and a
    // frame that is malformed otherwise (a bad lastSeq, a field a newer client added) is a mistake
    // to report, not a guess at a token.
    const token = (parsed as { token?: unknown } | null | undefined)?.token;
    const offered = typeof token === 'string' ? token : undefined;
    const device = offered ? devices.byToken(offered) : undefined;
    const wrongToken = offered !== undefined && !device;
    if (wrongToken) {
      const over = !limiter.allowed(conn.address);
      limiter.fail(conn.address);
      this.deps.refusals?.refused(over ? 'rate_limited' : 'auth_failed', { address: conn.address, path: '/ws' });
      if (over) {
        closeNow(conn.socket, CloseCode.policyViolation, 'too many failed attempts; wait a minute');
        return undefined;
      }
    }
    if (!frame) {
      const problem = authFrameProblem(parsed, result.error?.issues[0]);
      this.send(conn, {
        type: 'error',
        code: 'bad_request',
        message: `The auth frame could not be read (${problem}). Send {"type":"auth","token":"<device token>"}, with "lastSeq": <the last seq seen> when resuming.`,
      });
      closeNow(conn.socket, CloseCode.policyViolation, problem);
      return undefined;
    }
    if (!device) {
      closeNow(conn.socket, CloseCode.unauthorized, 'unknown or revoked device token; pair again with `errand pair`');
      return undefined;
    }
    this.makeRoomFor(device);
    conn.device = device;
    devices.touch(device.id, conn.address);
    this.send(conn, {
      type: 'auth.ok',
      protocol: PROTOCOL_VERSION,
      device: publicDevice(device, true),
      hostId: this.deps.hostId,
      seq: events.lastSeq,
    });

    // Subscribe first, then replay, so nothing falls between the two; skip what the replay sent.
    let replayedUpTo = frame.lastSeq ?? events.lastSeq;
    // Live events during the replay wait here, serialized as they go out; a peer that lets this pass
    // MAX_BUFFERED_BYTES is not reading and is cut, as send() cuts one at the same size.
    const heldBack: { seq: number; frame: string }[] = [];
    let heldBytes = 0;
    let replaying = true;
    const unsubscribe = events.subscribe((e, frame) => {
      if (!replaying) {
        if (e.seq > replayedUpTo) this.send(conn, frame);
        return;
      }
      if (heldBytes > MAX_BUFFERED_BYTES) return; // cut already; closing
      heldBytes += frame.length;
      if (heldBytes <= MAX_BUFFERED_BYTES) heldBack.push({ seq: e.seq, frame });
      else {
        heldBack.length = 0;
        this.cutBehind(conn, 'live events piled up during its replay');
      }
    });
    const finish = () => {
      for (const e of heldBack)
        if (e.seq > replayedUpTo) {
          this.send(conn, e.frame);
          replayedUpTo = e.seq;
        }
      heldBack.length = 0;
      replaying = false;
      this.send(conn, { type: 'synced', seq: replayedUpTo });
    };
    if (frame.lastSeq === undefined) {
      replaying = false;
      return unsubscribe;
    }
    const lastSeq = frame.lastSeq;
    const resume = () => {
      if (conn.socket.readyState !== conn.socket.OPEN) return;
      const missed = events.framesSince(lastSeq, frame.lastAt);
      if (!missed) {
        replayedUpTo = events.lastSeq;
        const at = events.atOf(replayedUpTo);
        this.send(conn, { type: 'snapshot', seq: replayedUpTo, at, threads: threads.list(true) }, true);
        finish();
        return;
      }
      replayedUpTo = Math.max(lastSeq, missed.at(-1)?.seq ?? lastSeq);
      const sent = replay(conn.socket, missed, {
        cork: () => this.cork(conn),
        send: (bytes) => conn.unread.write(() => conn.socket.send(bytes, { binary: false })),
        stallMs: this.timing.replayStallMs,
      });
      sent.then(finish, (err: unknown) =>
        err instanceof ReplayStalled ? this.cutBehind(conn, err.message) : conn.socket.terminate(),
      );
    };
    // The replay window's older part is read just after start-up: a resume then waits for it.
    void events.ready().then(resume);
    return unsubscribe;
  }

  /** Cut a peer that does not read what it is sent; it reconnects and resumes from its last seq. */
  private cutBehind(conn: Connection, why: string): void {
    if (conn.socket.readyState === conn.socket.CLOSED) return;
    this.deps.log.info('cut off a client that is not reading', { device: conn.device?.id, why });
    conn.socket.terminate();
  }

  private async onCommand(conn: Connection, text: string): Promise<void> {
    const device = conn.device!;
    if (!this.deps.devices.get(device.id)) {
      conn.closing = true;
      closeNow(
        conn.socket,
        CloseCode.revoked,
        'this device was removed on the computer; pair again with `errand pair`',
      );
      return;
    }
    // Before JSON.parse: a frame of tens of thousands of fields, or nested very deep, stalls the
    // event loop (and every other device) for a third of a second per frame as it is parsed.
    const shape = frameShape(text);
    if (shape.problem) {
      this.send(conn, {
        type: 'error',
        id: shape.id,
        code: 'bad_request',
        message: `The frame was not read: ${shape.problem}.`,
      });
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      this.send(conn, { type: 'error', code: 'bad_request', message: 'Frame is not valid JSON.' });
      return;
    }
    const id =
      raw && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string'
        ? (raw as { id: string }).id.slice(0, 64)
        : undefined;
    const isObject = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
    const type = isObject ? (raw as { type?: unknown }).type : undefined;
    if (typeof type !== 'string') {
      this.send(conn, {
        type: 'error',
        id,
        code: 'bad_request',
        message: `${isObject ? 'The frame has no "type".' : 'The frame is not a JSON object.'} Send a JSON object with "type" and "id" (see docs/protocol.md).`,
      });
      return;
    }
    const parsed = ClientCommand.safeParse(raw);
    if (!parsed.success) {
      const known = ClientCommand.options.some((o) => o.shape.type.value === type);
      const issue = parsed.error.issues[0];
      this.send(
        conn,
        known
          ? {
              type: 'error',
              id,
              code: 'bad_request',
              message: commandProblem(type, issue),
            }
          : {
              type: 'error',
              id,
              code: 'unknown_command',
              // Only a short string is named back: `type` is whatever the client sent.
              message: `Unknown command type ${JSON.stringify(type.slice(0, 64))}.`,
            },
      );
      return;
    }
    const cmd = parsed.data;
    if (!this.accepting) {
      this.send(conn, {
        type: 'error',
        id: cmd.id,
        code: 'unavailable',
        message: 'The host is shutting down; try again in a moment.',
      });
      return;
    }
    const illFormed = illFormedField(cmd);
    if (illFormed) {
      this.send(conn, {
        type: 'error',
        id: cmd.id,
        code: 'bad_request',
        message: `Invalid "${cmd.type}": ${illFormed} holds half of a surrogate pair (a broken character); send it again as well-formed text.`,
      });
      return;
    }
    const busy = this.tooBusy(conn);
    if (busy) {
      this.send(conn, {
        type: 'error',
        id: cmd.id,
        code: 'rate_limited',
        message: `Too many commands at once (${busy}); wait for replies, then send this again.`,
      });
      return;
    }
    const deviceId = conn.device!.id;
    conn.inFlight++;
    this.inFlightByDevice.set(deviceId, (this.inFlightByDevice.get(deviceId) ?? 0) + 1);
    try {
      await this.runCommand(conn, cmd);
    } finally {
      conn.inFlight--;
      const left = this.inFlightByDevice.get(deviceId)! - 1;
      if (left) this.inFlightByDevice.set(deviceId, left);
      else this.inFlightByDevice.delete(deviceId);
    }
  }

  /** Which in-flight bound a new command of this connection would pass, said for the refusal; none if it fits. */
  private tooBusy(conn: Connection): string | undefined {
    if (conn.inFlight >= MAX_IN_FLIGHT) return `${MAX_IN_FLIGHT} on this connection`;
    if ((this.inFlightByDevice.get(conn.device!.id) ?? 0) >= MAX_IN_FLIGHT_PER_DEVICE)
      return `${MAX_IN_FLIGHT_PER_DEVICE} from this device, over all its connections`;
    return undefined;
  }

  private async runCommand(conn: Connection, cmd: ClientCommand): Promise<void> {
    const device = conn.device!;
    const ctx = { device, address: conn.address, connectionId: conn.id };
    const run = async () => {
      try {
        return { ok: true, result: (await this.deps.router.dispatch(cmd, ctx, conn.gone.signal)) ?? null };
      } catch (err) {
        if (err instanceof CommandError) return { ok: false, result: { code: err.code, message: err.message } };
        this.deps.log.error('command failed', { type: cmd.type, error: (err as Error).stack });
        return {
          ok: false,
          result: {
            code: 'internal',
            message: 'The host hit an internal error running this command; see `errand logs`.',
          },
        };
      }
    };
    const reply = MUTATING_COMMANDS.has(cmd.type)
      ? await this.deps.commands.once(device.id, cmd.id, run, commandFingerprint(cmd))
      : await run();
    if (reply.ok) this.send(conn, { type: 'reply', id: cmd.id, ok: true, result: reply.result }, true);
    else {
      const e = reply.result as { code: 'internal'; message: string };
      this.send(conn, { type: 'error', id: cmd.id, code: e.code, message: e.message }, true);
    }
  }

  /** Close every live socket of a revoked device at once, its HTTP requests under way included. */
  revoke(deviceId: string): void {
    for (const c of this.connections)
      if (c.device?.id === deviceId && !c.closing)
        this.evict(c, CloseCode.revoked, 'this device was removed on the computer; pair again with `errand pair`');
    this.httpRequests.cut(deviceId);
  }

  connectedDevices(): string[] {
    return [...new Set([...this.connections].flatMap((c) => (c.device ? [c.device.id] : [])))];
  }

  /** Stop taking work and tell clients the host is going away. */
  close(): void {
    this.accepting = false;
    clearInterval(this.heartbeat);
    // A peer that does not finish the closing handshake promptly is cut off.
    for (const c of this.connections) closeNow(c.socket, CloseCode.goingAway, 'host is stopping');
  }
}
