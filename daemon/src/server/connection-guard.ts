// Bounds the HTTP connections no valid token has vouched for. A connection that never finishes its
// headers, or sits idle after a request without a token, costs a file descriptor and memory; past a
// limit (from one address: its oldest; in all: the oldest from the address holding the most) a
// connection is closed to make room, idle ones before ones with a request in progress. The new
// connection is always let in: refusing it could refuse the owner, who may share an address with
// the attacker (a proxy or a tailnet peer arrives from 127.0.0.1). A connection whose request carries a valid token is no longer counted, and a
// WebSocket upgrade is counted until the gateway takes it (the gateway bounds unauthenticated sockets itself).
// Every connection is known, so a stop can cut the ones that never end.
import type { Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import { oldestOfBusiest } from './crowd.js';

export interface ConnectionLimits {
  /** Unvouched connections in all. */
  total: number;
  /** Unvouched connections from one address. */
  perAddress: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { total: 256, perAddress: 64 };

/** Headers must arrive within this (Node's default is 60 s): a phone sends them in one packet. */
const HEADERS_TIMEOUT_MS = 15_000;

/**
 * For the server's creation (Node reads the checking interval only then): Node looks for requests
 * past their deadline only this often, and its default (30 s) let headers take about 30 s, not 15.
 * A check walks the open connections (a few hundred at most): once a second costs nothing.
 */
export const HTTP_SERVER_OPTIONS: ServerOptions = {
  headersTimeout: HEADERS_TIMEOUT_MS,
  connectionsCheckingInterval: 1_000,
};

/**
 * An upgraded socket the gateway has not taken within this is dropped: Node no longer times a
 * connection once it is upgraded, so nothing else would ever close it.
 */
const UPGRADE_HANDOVER_MS = 10_000;

interface Tracked {
  address: string;
  /** Requests in progress on this connection (HTTP/1.1 keep-alive: at most one at a time). */
  busy: number;
}

export class ConnectionGuard {
  /** Unvouched connections, oldest first (a Map keeps insertion order). */
  private readonly tracked = new Map<Socket, Tracked>();
  /** Every open connection, counted or not. */
  private readonly open = new Set<Socket>();
  /** Upgraded sockets the gateway has not taken yet, each with the timer that drops it. */
  private readonly upgrading = new Map<Socket, NodeJS.Timeout>();

  constructor(private readonly limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS) {}

  attach(server: Server): void {
    server.headersTimeout = HEADERS_TIMEOUT_MS;
    server.on('connection', (socket: Socket) => this.admit(socket));
    server.on('request', (req, res) => {
      const entry = this.tracked.get(req.socket);
      if (!entry) return;
      entry.busy++;
      res.once('close', () => {
        entry.busy--;
      });
    });
    // Attach before anything else listens for upgrades, so an upgrade is known before it is handled.
    server.on('upgrade', (req) => this.upgraded(req.socket));
  }

  /** A valid token came on this connection: it is not counted any more. */
  vouch(socket: Socket): void {
    this.tracked.delete(socket);
  }

  /** The gateway took this upgraded socket: it bounds and times it from now on. */
  handedOver(socket: Socket): void {
    clearTimeout(this.upgrading.get(socket));
    this.upgrading.delete(socket);
    this.vouch(socket);
  }

  /** Closes every connection still open (a stop's last step: none may hold it up). */
  destroyAll(): void {
    for (const socket of this.open) socket.destroy();
  }

  /** How many connections are counted now. */
  get size(): number {
    return this.tracked.size;
  }

  private admit(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    let fromAddress = 0;
    for (const entry of this.tracked.values()) if (entry.address === address) fromAddress++;
    if (fromAddress >= this.limits.perAddress) this.evictOldest(address);
    else if (this.tracked.size >= this.limits.total) this.evictOldest();
    this.tracked.set(socket, { address, busy: 0 });
    this.open.add(socket);
    socket.once('close', () => {
      this.tracked.delete(socket);
      this.open.delete(socket);
      clearTimeout(this.upgrading.get(socket));
      this.upgrading.delete(socket);
    });
  }

  /**
   * Node hands an upgraded socket over and stops timing it. It stays counted, its request in
   * progress, until the gateway takes it; if that does not happen soon it is dropped.
   */
  private upgraded(socket: Socket): void {
    const entry = this.tracked.get(socket);
    if (entry) entry.busy++;
    const drop = setTimeout(() => socket.destroy(), UPGRADE_HANDOVER_MS);
    drop.unref();
    this.upgrading.set(socket, drop);
  }

  /**
   * Closes a counted connection, idle ones first: from `address` its oldest; else the oldest from
   * the address holding the most (a crowd from one place never pushes out someone from elsewhere).
   */
  private evictOldest(address?: string): void {
    const entries = [...this.tracked].filter(([, e]) => address === undefined || e.address === address);
    const victim = oldestOfBusiest(
      entries,
      ([, e]) => e.address,
      ([, e]) => e.busy === 0,
    )?.[0];
    if (!victim) return;
    this.tracked.delete(victim);
    victim.destroy();
  }
}
