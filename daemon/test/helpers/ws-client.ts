// A WebSocket client for tests: authenticates, records every frame, sends commands and awaits replies.
import crypto from 'node:crypto';
import WebSocket from 'ws';
import { type ClientCommand, type ServerEvent, ServerFrame } from '../../../shared/src/index.js';

type Frame = ServerFrame;
type CommandInput = ClientCommand extends infer C ? (C extends { id: string } ? Omit<C, 'id'> : never) : never;

export class WsTestClient {
  readonly frames: Frame[] = [];
  private waiters: Array<{ pred: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  closed: { code: number; reason: string } | undefined;
  private closeWaiters: Array<(c: { code: number; reason: string }) => void> = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = ServerFrame.parse(JSON.parse(data.toString()));
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => (w.pred(frame) ? (w.resolve(frame), false) : true));
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.closeWaiters) w(this.closed);
    });
  }

  /** Open a socket without authenticating (for tests of the auth itself). */
  static raw(
    url: string,
    opts: { origin?: string; path?: string; headers?: Record<string, string>; localAddress?: string } = {},
  ): WebSocket {
    return new WebSocket(url.replace(/^http/, 'ws') + (opts.path ?? '/ws'), {
      origin: opts.origin,
      headers: opts.headers,
      localAddress: opts.localAddress,
    });
  }

  static async open(url: string, token: string, lastSeq?: number): Promise<WsTestClient> {
    const socket = WsTestClient.raw(url);
    const client = new WsTestClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    socket.send(JSON.stringify({ type: 'auth', token, ...(lastSeq !== undefined ? { lastSeq } : {}) }));
    const first = await Promise.race([
      client.waitFor((f) => f.type === 'auth.ok' || f.type === 'error', 7000),
      client.waitClosed(7000).then((c) => {
        throw new Error(`auth refused: ${c.code} ${c.reason}`);
      }),
    ]);
    if (first.type !== 'auth.ok') throw new Error('auth failed');
    if (lastSeq !== undefined) await client.waitFor((f) => f.type === 'synced', 5000);
    return client;
  }

  waitFor(pred: (f: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    const found = this.frames.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        resolve: (f: Frame) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for a frame`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Wait for an event matching `pred` (already received or future). */
  async event<K extends ServerEvent['kind']>(
    kind: K,
    pred: (e: Extract<ServerEvent, { kind: K }>) => boolean = () => true,
    timeoutMs = 10_000,
  ) {
    const f = await this.waitFor(
      (fr) => fr.type === 'event' && fr.event.kind === kind && pred(fr.event as Extract<ServerEvent, { kind: K }>),
      timeoutMs,
    );
    return (f as Extract<Frame, { type: 'event' }>).event as Extract<ServerEvent, { kind: K }>;
  }

  events(): Extract<Frame, { type: 'event' }>[] {
    return this.frames.filter((f): f is Extract<Frame, { type: 'event' }> => f.type === 'event');
  }

  lastSeq(): number {
    return this.events().at(-1)?.seq ?? 0;
  }

  /** Send a command and wait for its reply; rejects with the daemon's error message. */
  async send<T = unknown>(
    cmd: CommandInput,
    id = crypto.randomBytes(9).toString('base64url'),
    timeoutMs = 10_000,
  ): Promise<T> {
    this.socket.send(JSON.stringify({ ...cmd, id }));
    const reply = await this.waitFor(
      (f) => (f.type === 'reply' || f.type === 'error') && f.id === id && !this.seenReply.has(f),
      timeoutMs,
    );
    this.seenReply.add(reply);
    if (reply.type === 'error') throw Object.assign(new Error(reply.message), { code: reply.code });
    return (reply as Extract<Frame, { type: 'reply' }>).result as T;
  }
  private seenReply = new Set<Frame>();

  sendRaw(data: string): void {
    this.socket.send(data);
  }

  waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
      this.closeWaiters.push((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }

  close(): void {
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING)
      this.socket.close();
  }
}
