// The daemon itself: whether it answers (or, without a control socket, what its lock says), the
// login service that starts it, and, for a stopped daemon, whether it could listen where it would.
import fs from 'node:fs';
import { isIPv6 } from 'node:net';
import type { Config } from '../config/schema.js';
import { controlCall, DaemonNotRunningError } from '../control/client.js';
import { serviceState } from '../service/index.js';
import { inspectLock, type LockState } from '../store/lock.js';
import type { Check } from './check.js';
import { listenAddressProblem, listenHost, portInUseProblem, tryListen } from './listen-check.js';

/** The part of the daemon's `status` answer doctor reads (HostStatus, loosely). */
export interface DaemonStatus {
  version?: string;
  startedAt?: number;
  origins?: string[];
  /** The origins its socket serves now (from its --port/--lan, not only config.json). */
  listening?: string[];
  connectors?: { name: string; status: string; reason?: string }[];
  sandbox?: { enabled: boolean; reason?: string };
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} days`;
}

export async function checkDaemon(
  socket: string,
  lockFile: string,
): Promise<{ check: Check; status?: DaemonStatus; notRunning?: boolean }> {
  try {
    const status = (await controlCall(socket, 'status', {}, { timeoutMs: 3000 })) as DaemonStatus | undefined;
    const bits = [
      status?.version ? `version ${status.version}` : undefined,
      status?.startedAt ? `up ${ago(Date.now() - status.startedAt)}` : undefined,
    ].filter(Boolean);
    return {
      check: {
        id: 'daemon',
        title: 'Daemon',
        status: 'ok',
        detail: `running${bits.length ? ` (${bits.join(', ')})` : ''}`,
      },
      status: status ?? {},
    };
  } catch (err) {
    if (err instanceof DaemonNotRunningError) return daemonWithoutSocket(lockFile);
    return {
      check: {
        id: 'daemon',
        title: 'Daemon',
        status: 'fail',
        detail: `not answering on its control socket (${(err as Error).message})`,
        fix: 'Look at `errand logs` for the reason, then restart it (`systemctl --user restart errand`, or Ctrl-C and `errand start`).',
      },
    };
  }
}

/**
 * No control socket: what the home folder's lock says. A lock a dead daemon left (a crash, a power
 * cut) is named, so that nobody takes it for a running daemon; the next start takes it over.
 */
function daemonWithoutSocket(lockFile: string): { check: Check; notRunning?: boolean } {
  let lock: LockState;
  try {
    lock = inspectLock(lockFile);
  } catch {
    lock = { kind: 'free' }; // unreadable: start says why, if it matters
  }
  if (lock.kind === 'held') {
    return {
      check: {
        id: 'daemon',
        title: 'Daemon',
        status: 'fail',
        detail: `process ${lock.pid} holds the home folder (lock ${lockFile}) but has no control socket`,
        fix: `If it has only just started, run \`errand doctor\` again in a moment; otherwise look at \`errand logs\`, stop it (\`kill ${lock.pid}\`) and start Errand again.`,
      },
    };
  }
  const stale =
    lock.kind === 'stale'
      ? `; the lock ${lockFile} is left from a daemon that ended${lock.pid ? ` (process ${lock.pid})` : ''}, and the next start takes it over`
      : '';
  return {
    check: {
      id: 'daemon',
      title: 'Daemon',
      status: 'fail',
      detail: `not running${stale}`,
      fix: 'Start it with `errand start`, or run `errand install` to have it start at login.',
    },
    notRunning: true,
  };
}

export async function checkService(home: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): Promise<Check> {
  const s = await serviceState(home, { env, platform });
  if (s.kind === 'none') {
    return {
      id: 'service',
      title: 'Login service',
      status: 'unknown',
      detail: `not supported on ${platform}`,
      fix: 'Start the daemon yourself with `errand start` when you log in.',
    };
  }
  if (!s.installed) {
    return {
      id: 'service',
      title: 'Login service',
      status: 'warn',
      detail: 'not installed: Errand stops when you close its terminal',
      fix: 'Run `errand install` so it starts at login and restarts after a failure.',
    };
  }
  const gone = (s.program ?? []).filter((p) => !fs.existsSync(p));
  if (gone.length) {
    return {
      id: 'service',
      title: 'Login service',
      status: 'fail',
      detail: `installed, but what it runs is gone: ${gone.join(', ')}`,
      fix: 'Run `errand install` again (with the Node you use now) to point the service at it.',
    };
  }
  if (!s.servesThisHome) {
    return {
      id: 'service',
      title: 'Login service',
      status: 'warn',
      detail: `installed (${s.unitPath}) for another home folder: ${s.home}`,
      fix: 'Run `errand install` with this home folder to point the service here.',
    };
  }
  return { id: 'service', title: 'Login service', status: 'ok', detail: `installed (${s.unitPath})` };
}

/**
 * For a stopped daemon: the listen `errand start` would do, tried and closed at once, so a port in
 * use or a `bind` that is not on this computer is found before start refuses it (in start's words).
 */
export async function checkListen(config: Config, home: string, env: NodeJS.ProcessEnv): Promise<Check> {
  const id = 'listen';
  const title = 'Listening address';
  const host = listenHost(config);
  const shown = `${isIPv6(host) ? `[${host}]` : host}:${config.port}`;
  const err = await tryListen(host, config.port);
  if (!err) return { id, title, status: 'ok', detail: `${shown} is free for \`errand start\`` };
  const found =
    err.code === 'EADDRINUSE'
      ? await portInUseProblem({ port: config.port, address: host }, home, { flag: false, env })
      : listenAddressProblem(err);
  if (found)
    return { id, title, status: 'fail', detail: `\`errand start\` would stop: ${found.problem}`, fix: found.fix };
  return { id, title, status: 'unknown', detail: `could not try to listen on ${shown} (${err.message})` };
}
