// The daemon's end of the local control channel (Unix socket, mode 0600, in the home folder).
import fs from 'node:fs';
import net from 'node:net';
import type { Logger } from '../util/log.js';
import { type ControlHandler, type ControlMessage, type ControlMethod, ControlRequest } from './protocol.js';

const MAX_LINE = 256 * 1024;

export class ControlServer {
  private handlers = new Map<string, ControlHandler<ControlMethod>>();
  private server: net.Server | undefined;
  private sockets = new Set<net.Socket>();

  constructor(
    private readonly socketPath: string,
    private readonly log: Logger,
  ) {}

  register<M extends ControlMethod>(method: M, handler: ControlHandler<M>): void {
    if (this.handlers.has(method)) throw new Error(`control method ${method} registered twice`);
    this.handlers.set(method, handler as unknown as ControlHandler<ControlMethod>);
  }

  /** The methods registered so far (a test checks a started daemon has every ControlMethods entry). */
  methods(): string[] {
    return [...this.handlers.keys()];
  }

  async listen(): Promise<void> {
    fs.rmSync(this.socketPath, { force: true }); // left by a crashed daemon; we hold the lock
    const server = net.createServer((socket) => this.accept(socket));
    const oldMask = process.umask(0o177); // the socket is created 0600 from the start
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.socketPath, () => resolve());
      });
    } finally {
      process.umask(oldMask);
    }
    fs.chmodSync(this.socketPath, 0o600);
    this.server = server;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    const abort = new AbortController();
    socket.on('close', () => {
      this.sockets.delete(socket);
      abort.abort();
    });
    socket.on('error', () => undefined);
    let buffer = '';
    const send = (m: ControlMessage) => {
      if (!socket.destroyed) socket.write(JSON.stringify(m) + '\n');
    };
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      if (buffer.length > MAX_LINE) {
        socket.destroy();
        return;
      }
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        void this.handle(line, send, abort.signal);
      }
    });
  }

  private async handle(line: string, send: (m: ControlMessage) => void, signal: AbortSignal): Promise<void> {
    let req: ControlRequest;
    try {
      req = ControlRequest.parse(JSON.parse(line));
    } catch {
      send({ id: -1, ok: false, error: 'malformed control request' });
      return;
    }
    const handler = this.handlers.get(req.method);
    if (!handler) {
      send({ id: req.id, ok: false, error: `unknown control method "${req.method}"` });
      return;
    }
    try {
      const result = await handler(req.params, { progress: (value) => send({ id: req.id, progress: value }), signal });
      send({ id: req.id, ok: true, result });
    } catch (err) {
      this.log.debug('control call failed', { method: req.method, error: (err as Error).message });
      send({ id: req.id, ok: false, error: (err as Error).message });
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    fs.rmSync(this.socketPath, { force: true });
  }
}
