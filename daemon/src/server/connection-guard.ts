// Bounds the HTTP connections no valid token has vouched for. A connection that never finishes its
// headers, or sits idle after a request without a token, costs a file descriptor and memory; past a
// limit (from one address: its oldest; in all: the oldest from the address holding the most) a
// connection is closed to make room, idle ones before ones with a request in progress. The new
// connection is always let in: refusing it could refuse the owner, who may share an address with
// the attacker (a proxy or a tailnet peer arrives from 127.0.0.1). A connection whose request carries a valid token is no longer counted, and a
// WebSocket upgrade is handed to the gateway, which bounds unauthenticated sockets itself.
import type { Server } from 'node:http';
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

interface Tracked {
  address: string;
  /** Requests in progress on this connection (HTTP/1.1 keep-alive: at most one at a time). */
  busy: number;
}

export class ConnectionGuard {
  /** Unvouched connections, oldest first (a Map keeps insertion order). */
  private readonly tracked = new Map<Socket, Tracked>();

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
    server.on('upgrade', (req) => this.vouch(req.socket));
  }

  /** A valid token came on this connection (or the gateway took it over): it is not counted any more. */
  vouch(socket: Socket): void {
    this.tracked.delete(socket);
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
    socket.once('close', () => this.tracked.delete(socket));
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
