// The MCP stdio transport Errand runs a connector's server with. Like a shell command (run-process.ts),
// the server runs as its own process group under the subreaper keeper (subreaper.ts), carrying an
// environment marker (descendants.ts) and noted in a file in the home folder (orphans.ts): whatever it
// starts is killed with it, when the connector stops, when the daemon stops or dies (the keeper's
// parent-death signal), and at the next start after a kill -9 (ConnectorManager reaps the notes).
// The server counts as gone when its process exits, not when its pipes close: a helper it left
// holding its stdout cannot keep a dead server "connected".
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { PassThrough } from 'node:stream';
import type { JSONRPCMessage, ReadBuffer, Transport } from '@modelcontextprotocol/client';
import { CALL_MARKER_VAR, killMarked, newCallMarker } from '../descendants.js';
import type { ProcessNotes } from '../orphans.js';
import { resolveProgram } from '../resolve-program.js';
import { underKeeper } from '../subreaper.js';

/** After the server exits, how long its last answers may still drain from the pipe. */
const DRAIN_AFTER_EXIT_MS = 300;
/** On close: how long the server has to leave on its own after stdin ends, then after SIGTERM. */
const EXIT_ON_EOF_MS = 2_000;
const EXIT_ON_TERM_MS = 2_000;

export interface ServerProcessOptions {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** The folder the server runs in (connector.ts: the home folder, whatever the daemon's own is). */
  cwd: string;
  notes?: ProcessNotes;
  /** The SDK's line reader and writer (loaded with the SDK, see connector.ts). */
  sdk: { ReadBuffer: typeof ReadBuffer; serializeMessage: (m: JSONRPCMessage) => string };
}

/** spawn's own error for a program that is not there, so callers name it the same way ("not found"). */
function notFound(command: string): Error {
  return Object.assign(new Error(`spawn ${command} ENOENT`), {
    code: 'ENOENT',
    errno: -2,
    syscall: 'spawn',
    path: command,
  });
}

export class ServerProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** The server's stderr (and the keeper's), readable before start. */
  readonly stderr = new PassThrough();
  private child: ChildProcess | undefined;
  private readonly marker = newCallMarker();
  private readonly buffer: ReadBuffer;
  private kept = false;
  private serverPid: number | undefined;
  private ended = false;
  private drainTimer: NodeJS.Timeout | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ServerProcessOptions) {
    this.buffer = new opts.sdk.ReadBuffer();
  }

  async start(): Promise<void> {
    if (this.child) throw new Error('the connector server was already started');
    // Resolved here, on the PATH it runs with: the keeper would report a missing program only as exit 127.
    const program = await resolveProgram(this.opts.command, {
      pathVar: this.opts.env.PATH ?? '',
      cwd: this.opts.cwd,
      inside: () => false,
    }).catch(() => {
      throw notFound(this.opts.command);
    });
    const argv = [program.path, ...this.opts.args];
    const keeper = underKeeper(argv);
    this.kept = keeper !== undefined;
    const run = keeper ?? argv;
    await new Promise<void>((resolve, reject) => {
      const child = spawn(run[0], run.slice(1), {
        cwd: this.opts.cwd,
        env: { ...this.opts.env, [CALL_MARKER_VAR]: this.marker },
        detached: true, // its own process group, killed as one
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      this.child = child;
      this.exited = new Promise((r) => child.once('exit', () => r()));
      child.once('spawn', () => {
        if (child.pid !== undefined) this.opts.notes?.add(child.pid, this.opts.command, this.marker);
        resolve();
      });
      child.once('error', (err) => {
        reject(err);
        this.onerror?.(err);
        this.end();
      });
      child.on('exit', () => {
        // Its last answers may still be in the pipe; a helper holding the pipe does not keep it open.
        this.drainTimer ??= setTimeout(() => this.end(), DRAIN_AFTER_EXIT_MS);
      });
      child.on('close', () => this.end());
      child.stdin?.on('error', (err) => this.onerror?.(err));
      child.stdout?.on('error', (err) => this.onerror?.(err));
      child.stdout?.on('data', (chunk: Buffer) => {
        try {
          this.buffer.append(chunk);
          for (let m = this.buffer.readMessage(); m !== null; m = this.buffer.readMessage()) this.onmessage?.(m);
        } catch (err) {
          // A line that is not JSON-RPC, or one over the SDK's size bound: the server is not usable.
          this.onerror?.(err as Error);
          void this.close();
        }
      });
      child.stderr?.pipe(this.stderr);
    });
  }

  /** The server's process id (under the keeper, the keeper's first child) until it is seen gone. */
  get pid(): number | undefined {
    const pid = this.child?.pid;
    if (pid === undefined || this.ended) return undefined;
    if (!this.kept) return pid;
    // Kept once found: while the keeper ends, its first child would be another process or none.
    this.serverPid ??= firstChild(pid);
    return this.serverPid;
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || this.ended) throw new Error('Not connected: the connector server is not running');
    if (!stdin.write(this.opts.sdk.serializeMessage(message))) await new Promise((r) => stdin.once('drain', r));
  }

  /** Ask the server to leave (stdin ends), then SIGTERM, then kill all it started. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child || this.ended) return;
    const running = () => child.exitCode === null && child.signalCode === null;
    const within = (ms: number) => Promise.race([this.exited, new Promise((r) => setTimeout(r, ms).unref())]);
    try {
      child.stdin?.end();
    } catch {
      /* already closed */
    }
    if (running()) await within(EXIT_ON_EOF_MS);
    if (running()) {
      try {
        child.kill('SIGTERM'); // the keeper kills every descendant at once
      } catch {
        /* gone */
      }
      await within(EXIT_ON_TERM_MS);
    }
    this.end();
  }

  /** The server is gone (or must be): kill its group and everything carrying its marker, once. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.drainTimer);
    const child = this.child;
    if (child?.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* the group is gone */
      }
      killMarked([this.marker]);
      this.opts.notes?.remove(child.pid);
    }
    child?.stdout?.destroy();
    child?.stderr?.destroy();
    child?.stdin?.destroy();
    this.buffer.clear();
    this.onclose?.();
  }
}

/** The first child of `pid` still alive (Linux: the kernel lists children in the order they came), or undefined. */
function firstChild(pid: number): number | undefined {
  try {
    const first = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}
