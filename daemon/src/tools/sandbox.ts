// The shell sandbox: @anthropic-ai/sandbox-runtime (bubblewrap + socat + ripgrep on Linux,
// sandbox-exec on macOS). Writes only inside the roots, no network, Errand's own state folder
// hidden. When it cannot start, the status says why and every shell call needs an approval.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../util/log.js';
import { isInside } from './roots.js';
import { runProcess } from './run-process.js';
import { shellQuote } from './util.js';

export interface SandboxState {
  enabled: boolean;
  reason?: string;
}

type SandboxManagerT = typeof import('@anthropic-ai/sandbox-runtime').SandboxManager;

/** What the sandbox runs on Linux besides the command: bubblewrap, socat (its network bridge), ripgrep. */
const SANDBOX_PROGRAMS = ['bwrap', 'socat', 'rg'] as const;

/** SandboxManager is one per process: only the Sandbox that initialized it last may reset it. */
let owner: Sandbox | undefined;

/**
 * On Linux the runtime bridges the sandbox's network through socat processes it starts (one
 * listening on a socket in the temp folder), stopped only by a clean reset: a daemon killed with
 * -9 leaves them running for good. They are noted in this file of the home while they run, and the
 * next start stops the ones still there.
 */
const BRIDGES_NOTE = 'sandbox-bridges.json';

/** A bridge: its process (with its start time, so a recycled process id is never taken for it) and socket. */
interface BridgeNote {
  pid: number;
  start: string;
  socket: string;
}

/** The runtime's bridge socket names (linux-sandbox-utils.js, initializeLinuxNetworkBridge). */
const BRIDGE_SOCKET = /^claude-(?:http|socks)-[0-9a-f]{16}\.sock$/;
/**
 * The sockets the runtime's proxy listens on in the daemon itself (mux-proxy.js: srt-mux-<pid>-<n>.sock):
 * a daemon killed with -9 leaves them in the temp folder.
 */
const muxSocketsOf = (pid: number) => new RegExp(`^srt-mux-${pid}-[0-9a-z]+\\.sock$`);

/** A process's start time (field 22 of /proc/<pid>/stat) and parent, or undefined when it is gone. */
function procStat(pid: number): { start: string; ppid: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : { start: fields[19], ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** Whether `pid` is, right now, a socat listening on `socket` the way the runtime starts its bridges. */
function isBridge(pid: number, socket: string): boolean {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    // By its real path, which may be socat1 (socat is a link to it on newer systems).
    return /^socat\d*$/.test(path.basename(argv[0])) && argv[1] === `UNIX-LISTEN:${socket},fork,reuseaddr`;
  } catch {
    return false;
  }
}

/** This process's children that are bridges listening on one of `sockets`. */
function findBridges(sockets: string[]): BridgeNote[] {
  const out: BridgeNote[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const stat = procStat(pid);
    if (stat?.ppid !== process.pid) continue;
    const socket = sockets.find((s) => isBridge(pid, s));
    if (socket) out.push({ pid, start: stat.start, socket });
  }
  return out;
}

function onPath(bin: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, bin), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * A program the sandbox itself runs (bwrap, socat, rg), by its real path, found on PATH outside the
 * allowed folders: a PATH folder inside them (~/bin with root ~) may hold one the agent planted,
 * and that one would run outside the sandbox, before it.
 */
export function systemProgram(name: string, roots: string[]): string | undefined {
  const real = (p: string) => {
    try {
      return fs.realpathSync.native(p);
    } catch {
      return undefined;
    }
  };
  const realRoots = roots.map((r) => real(r) ?? path.resolve(r));
  const inside = (p: string) => realRoots.some((r) => isInside(r, p));
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!path.isAbsolute(dir)) continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
    } catch {
      continue;
    }
    const at = real(file);
    const folder = real(dir);
    if (!at || !folder || inside(at) || inside(folder)) continue;
    return at;
  }
  return undefined;
}

/** What the sandbox will most likely be, without loading it: are the programs it needs there? */
function precheck(): SandboxState {
  if (process.platform === 'linux') {
    const missing = SANDBOX_PROGRAMS.filter((b) => !onPath(b));
    return missing.length
      ? { enabled: false, reason: `missing: ${missing.join(', ')} (install bubblewrap, socat and ripgrep)` }
      : { enabled: true };
  }
  if (process.platform === 'darwin')
    return fs.existsSync('/usr/bin/sandbox-exec')
      ? { enabled: true }
      : { enabled: false, reason: 'sandbox-exec not found' };
  return { enabled: false, reason: `no sandbox for this platform (${process.platform})` };
}

export class Sandbox {
  state: SandboxState = { enabled: false, reason: 'starting' };
  private manager: SandboxManagerT | undefined;
  /** Settles when the latest start() has finished (shell calls wait for it before deciding). */
  ready: Promise<SandboxState> = Promise.resolve(this.state);

  constructor(
    private readonly log: Logger,
    private readonly home: string,
    private readonly workspace: string,
  ) {}

  private get bridgesNote(): string {
    return path.join(this.home, BRIDGES_NOTE);
  }

  /**
   * Stop the network bridges a previous daemon of this home left running (killed with -9) and
   * remove their sockets; returns how many were stopped. Only a process that is still the noted
   * socat, listening on the noted socket, is killed.
   */
  reapLeftBridges(): number {
    let note: { daemon?: { pid?: unknown; start?: unknown }; bridges?: unknown; proxySockets?: unknown };
    try {
      note = JSON.parse(fs.readFileSync(this.bridgesNote, 'utf8'));
    } catch {
      return 0; // none noted
    }
    // The daemon that noted them still runs: they are its own.
    const daemon = note.daemon;
    if (
      typeof daemon?.pid === 'number' &&
      typeof daemon.start === 'string' &&
      procStat(daemon.pid)?.start === daemon.start
    )
      return 0;
    let stopped = 0;
    for (const b of Array.isArray(note.bridges) ? (note.bridges as Partial<BridgeNote>[]) : []) {
      if (typeof b?.pid !== 'number' || b.pid <= 1 || typeof b.socket !== 'string') continue;
      if (!path.isAbsolute(b.socket) || !BRIDGE_SOCKET.test(path.basename(b.socket))) continue;
      if (procStat(b.pid)?.start === b.start && isBridge(b.pid, b.socket)) {
        try {
          process.kill(b.pid, 'SIGKILL');
          stopped++;
        } catch {
          /* gone meanwhile */
        }
      }
      try {
        if (fs.lstatSync(b.socket).isSocket()) fs.rmSync(b.socket, { force: true });
      } catch {
        /* already gone */
      }
    }
    // The dead daemon's own proxy sockets.
    const own = typeof daemon?.pid === 'number' ? muxSocketsOf(daemon.pid) : undefined;
    for (const socket of Array.isArray(note.proxySockets) ? note.proxySockets : []) {
      if (typeof socket !== 'string' || !path.isAbsolute(socket) || !own?.test(path.basename(socket))) continue;
      try {
        if (fs.lstatSync(socket).isSocket()) fs.rmSync(socket, { force: true });
      } catch {
        /* already gone */
      }
    }
    fs.rmSync(this.bridgesNote, { force: true });
    return stopped;
  }

  /** Note the bridges the runtime just started (written whole, then renamed: never a torn note). */
  private noteBridges(manager: SandboxManagerT): void {
    if (process.platform !== 'linux') return;
    try {
      const sockets = [manager.getLinuxHttpSocketPath(), manager.getLinuxSocksSocketPath()].filter(
        (s): s is string => !!s,
      );
      const bridges = findBridges([...new Set(sockets)]);
      if (!bridges.length) return;
      const daemon = { pid: process.pid, start: procStat(process.pid)?.start };
      const own = muxSocketsOf(process.pid);
      const proxySockets = fs
        .readdirSync(os.tmpdir())
        .filter((n) => own.test(n))
        .map((n) => path.join(os.tmpdir(), n));
      const temp = `${this.bridgesNote}.tmp`;
      fs.writeFileSync(temp, JSON.stringify({ daemon, bridges, proxySockets }), { mode: 0o600 });
      fs.renameSync(temp, this.bridgesNote);
    } catch (err) {
      this.log.warn('the sandbox network bridges could not be noted; a crash would leave them running', {
        error: (err as Error).message,
      });
    }
  }

  /** Entries of Errand's home folder other than its workspace, as they are now. */
  private privateEntries(): string[] {
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.home);
    } catch {
      /* no home yet */
    }
    const ws = path.resolve(this.workspace);
    return names.map((n) => path.join(this.home, n)).filter((p) => path.resolve(p) !== ws);
  }

  /** The home folder under every spelling (given and real). */
  private homeSpellings(): string[] {
    const out = [path.resolve(this.home)];
    try {
      const real = fs.realpathSync(this.home);
      if (!out.includes(real)) out.push(real);
    } catch {
      /* no home yet */
    }
    return out;
  }

  /**
   * The folders the runtime makes writable on its own (getDefaultWritePaths: /tmp/claude, its
   * TMPDIR; ~/.npm/_logs; ~/.claude/debug) that lie outside `writable`. They are shared by every
   * task and outlive it, unseen by undo and taint notes, so they are denied: a command writes only
   * where Errand allows. The runtime's TMPDIR is then read-only, as it is on any machine without a
   * /tmp/claude (the runtime binds only folders that exist). The /dev entries (stdio) stay.
   */
  private runtimeDefaultsOutside(writable: string[]): string[] {
    if (!this.defaultWritePaths) return [];
    const real = (p: string) => {
      try {
        return fs.realpathSync(p);
      } catch {
        return path.resolve(p);
      }
    };
    const allowed = writable.flatMap((w) => [path.resolve(w), real(w)]);
    return this.defaultWritePaths()
      .filter((p) => !p.startsWith('/dev/'))
      .filter((p) => !allowed.some((w) => isInside(w, p) || isInside(w, real(p))));
  }

  /** The runtime's own list of default write paths, kept once it is loaded. */
  private defaultWritePaths: (() => string[]) | undefined;

  private runtimeConfig(roots: string[], writable: string[] = roots) {
    // Linux (bubblewrap): the whole home folder is hidden under an empty tmpfs, so entries made
    // after the command starts are hidden too and nothing a command writes there reaches the disk;
    // the workspace inside it is bound back because it is an allowed write path. Elsewhere the
    // entries that exist when the command starts are denied one by one.
    const linux = process.platform === 'linux';
    const home = this.homeSpellings();
    const entries = linux ? [] : this.privateEntries();
    // The programs it runs outside the sandbox, by path (never looked up on a PATH the agent can write to).
    // doStart refuses to start when one is found only inside them.
    const [bwrap, socat, rg] = linux ? SANDBOX_PROGRAMS.map((name) => systemProgram(name, roots)) : [];
    const programs = {
      ...(bwrap ? { bwrapPath: bwrap } : {}),
      ...(socat ? { socatPath: socat } : {}),
      ...(rg ? { ripgrep: { command: rg } } : {}),
    };
    return {
      network: { allowedDomains: [] as string[], deniedDomains: [] as string[] },
      filesystem: {
        denyRead: linux ? home : entries,
        allowWrite: writable,
        denyWrite: [...entries, ...this.runtimeDefaultsOutside(writable)],
      },
      ...programs,
    };
  }

  private shuttingDown = new AbortController();

  private async stopped(): Promise<SandboxState> {
    await this.stop();
    return (this.state = { enabled: false, reason: 'the daemon is stopping' });
  }

  /** Stop for good: a start in progress ends early. */
  async shutdown(): Promise<void> {
    this.shuttingDown.abort();
    await this.ready.catch(() => undefined);
    await this.stop();
  }

  private pending: { mode: 'auto' | 'off'; roots: string[] } | undefined;
  private used = false;

  /**
   * Record the wanted setup. The runtime (about 20 MB and a self-test) starts when a shell command
   * first needs it, so an idle daemon does not pay for it; until then the state is a cheap check of
   * the programs it needs. Once started, a new setup restarts it at once.
   */
  configure(mode: 'auto' | 'off', roots: string[]): void {
    if (this.used) {
      void this.start(mode, roots);
      return;
    }
    this.pending = { mode, roots };
    this.state =
      mode === 'off'
        ? { enabled: false, reason: 'turned off in the configuration (shell.sandbox = "off")' }
        : precheck();
  }

  /** Start the sandbox if it has not started yet; settles with its real state. */
  ensureStarted(): Promise<SandboxState> {
    const p = this.pending;
    if (!p) return this.ready;
    this.pending = undefined;
    this.used = true;
    return this.start(p.mode, p.roots);
  }

  /** Start (or restart) in the background; `ready` settles with the outcome. */
  start(mode: 'auto' | 'off', roots: string[]): Promise<SandboxState> {
    const previous = this.ready;
    this.state = { enabled: false, reason: 'starting' };
    this.ready = previous
      .catch(() => undefined)
      .then(() => this.doStart(mode, roots))
      .then((state) => {
        this.onStarted?.(state);
        return state;
      });
    return this.ready;
  }

  /** Called each time a start finishes, with its outcome. */
  onStarted: ((state: SandboxState) => void) | undefined;

  private async doStart(mode: 'auto' | 'off', roots: string[]): Promise<SandboxState> {
    await this.stop();
    this.state = { enabled: false, reason: 'starting' };
    if (mode === 'off')
      return (this.state = { enabled: false, reason: 'turned off in the configuration (shell.sandbox = "off")' });
    try {
      const { SandboxManager, getDefaultWritePaths } = await import('@anthropic-ai/sandbox-runtime');
      this.defaultWritePaths = () => getDefaultWritePaths();
      if (!SandboxManager.isSupportedPlatform())
        return (this.state = { enabled: false, reason: `no sandbox for this platform (${process.platform})` });
      if (process.platform === 'linux') {
        const planted = SANDBOX_PROGRAMS.filter((name) => !systemProgram(name, roots) && onPath(name));
        if (planted.length)
          return (this.state = {
            enabled: false,
            reason: `${planted.join(', ')} found only inside the allowed folders, where the agent can write: install it in a system folder (apt install bubblewrap socat ripgrep)`,
          });
      }
      const deps = SandboxManager.checkDependencies();
      if (deps.errors.length) return (this.state = { enabled: false, reason: `missing: ${deps.errors.join('; ')}` });
      owner = this;
      await SandboxManager.initialize(this.runtimeConfig(roots));
      this.noteBridges(SandboxManager);
      if (!SandboxManager.isSandboxingEnabled())
        return (this.state = { enabled: false, reason: 'the sandbox runtime did not enable itself' });
      this.manager = SandboxManager;
      if (this.shuttingDown.signal.aborted) return await this.stopped();
      // Prove it works once: a sandboxed `true` must exit 0 (without blocking the event loop).
      const probe = await this.wrap(['true'], roots[0] ?? this.workspace, roots);
      const r = await runProcess(probe.argv, {
        cwd: roots[0] ?? this.workspace,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        timeoutMs: 20_000,
        maxOutputBytes: 4096,
        signal: this.shuttingDown.signal,
      });
      if (this.shuttingDown.signal.aborted) return await this.stopped();
      if (r.code !== 0) {
        const why = (r.error ?? (r.output.trim() || (r.timedOut ? 'timed out' : `exit ${r.code}`)))
          .split('\n')
          .slice(-2)
          .join(' ');
        await this.stop();
        return (this.state = { enabled: false, reason: `the sandbox failed its self-test: ${why}` });
      }
      return (this.state = { enabled: true });
    } catch (err) {
      await this.stop();
      this.log.warn('shell sandbox unavailable', { error: (err as Error).message });
      return (this.state = { enabled: false, reason: (err as Error).message.split('\n')[0] });
    }
  }

  /** Wrap an argv so it runs sandboxed in `cwd` with writes allowed only in `roots`. */
  /** `writable`: where the command may write (default: all of `roots`, which also rule out planted programs). */
  async wrap(
    argv: string[],
    cwd: string,
    roots: string[],
    commandId?: string,
    writable?: string[],
  ): Promise<{ argv: string[] }> {
    if (!this.manager) throw new Error('sandbox not running');
    const wrapped = await this.manager.wrapWithSandboxArgv(
      shellQuote(argv),
      undefined,
      this.runtimeConfig(roots, writable ?? roots),
      undefined,
      cwd,
      commandId ? { commandId } : undefined,
    );
    return { argv: wrapped.argv };
  }

  annotate(commandId: string, stderr: string): string {
    try {
      return this.manager ? this.manager.annotateStderrWithSandboxFailures(commandId, stderr) : stderr;
    } catch {
      return stderr;
    }
  }

  after(): void {
    try {
      this.manager?.cleanupAfterCommand();
    } catch {
      /* best effort */
    }
  }

  async stop(): Promise<void> {
    const m = this.manager;
    this.manager = undefined;
    if (m && owner === this) {
      owner = undefined;
      // Reset stops the bridges; a note of bridges that may still run is kept for the next start.
      const reset = await m.reset().then(
        () => true,
        () => false,
      );
      if (reset) fs.rmSync(this.bridgesNote, { force: true });
    }
  }
}
