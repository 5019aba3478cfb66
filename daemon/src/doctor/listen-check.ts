// What stops the daemon from listening: the port is taken, or `bind` is not an address of this
// computer. `errand start` says it when listen fails; `errand doctor` tries the same listen on a
// stopped daemon's address and says it in the same words.
import net from 'node:net';
import path from 'node:path';
import { defaultHome, homePaths } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { controlCall } from '../control/client.js';
import { serviceState } from '../service/index.js';
import { reachFromStatus } from '../service/reach.js';
import { type PortHolder, portHolder } from './port-holder.js';

export interface ListenProblem {
  /** What is wrong, as a sentence. */
  problem: string;
  /** What to do, as a sentence. */
  fix: string;
}

type ListenError = NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string };

/** The host the daemon's socket listens on (LAN mode: every IPv4 address). As daemon.ts listens. */
export function listenHost(config: Config): string {
  return config.lan ? '0.0.0.0' : config.bind;
}

/** The problem and fix for an address or port the socket cannot use (naming the setting), or undefined. */
export function listenAddressProblem(err: unknown): ListenProblem | undefined {
  const e = err as ListenError;
  const address = String(e.address ?? e.hostname ?? '');
  const fix =
    'Set `bind` (in config.json, or ERRAND_BIND) to an address of this computer, like 127.0.0.1 (the default), or remove it.';
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN')
    return { problem: `cannot listen on "${address}": it is not an address of this computer.`, fix };
  if (e.code === 'EADDRNOTAVAIL')
    return {
      problem: `cannot listen on ${address}: it is not an address of this computer (or its network is down).`,
      fix,
    };
  if (e.code === 'EACCES' && e.syscall === 'listen')
    return {
      problem: `not allowed to listen on ${address}:${e.port ?? ''} (permission denied): ports below 1024 need administrator rights.`,
      fix: 'Pick a port from 1024 up (`port` in config.json, ERRAND_PORT or --port), and check `bind` (config.json or ERRAND_BIND).',
    };
  return undefined;
}

/**
 * Which port, who holds it when that can be known (another Errand answers /healthz; its home folder
 * when it is one this computer's Errand uses by default or as its login service; another program
 * by name and process id, on Linux), how to pick
 * another: where the port came from decides which change takes effect (--port beats ERRAND_PORT,
 * which beats config.json).
 */
export async function portInUseProblem(
  err: { port?: number; address?: string },
  home: string,
  from: { flag: boolean; env: NodeJS.ProcessEnv },
): Promise<ListenProblem> {
  const port = err.port ?? 7345;
  let holder: string | undefined;
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(3000) });
    const body = (await res.json()) as { name?: string; version?: string };
    if (body.name === 'errand') {
      const version = String(body.version).slice(0, 20);
      const otherHome = await errandHomeListeningOn(port, home, from.env);
      // `errand status` alone asks about this home folder, where nothing runs: name the other one.
      holder = otherHome
        ? `another Errand daemon (version ${version}, home folder ${otherHome}) is already running there; \`ERRAND_HOME=${otherHome} errand status\` shows it`
        : `another Errand daemon (version ${version}), with another home folder, is already running there`;
    }
  } catch {
    /* not an Errand, or not answering HTTP */
  }
  // Another program: the system may still say which.
  holder ??= otherProgram(port) ?? 'another program holds it';
  const next = port < 65535 ? port + 1 : port - 1;
  return {
    problem: `port ${port} on ${err.address ?? '127.0.0.1'} is in use: ${holder}.`,
    fix: from.flag
      ? `Pick another port: \`errand start --port ${next}\`.`
      : from.env.ERRAND_PORT
        ? `ERRAND_PORT is set in the environment, and it overrides "port" in config.json: pick another port with ERRAND_PORT=${next}${from.env.ERRAND_SUPERVISOR ? ` (for the login service, run \`ERRAND_PORT=${next} errand install\`)` : ''}, or \`errand start --port ${next}\`.`
        : `Pick another port: \`errand start --port ${next}\`, ERRAND_PORT=${next}, or "port": ${next} in ${homePaths(home).config}.`,
  };
}

/**
 * Which program holds the port, as far as this computer tells this user (Linux: /proc): by name
 * and process id; another user's only by its user id, with the command that names it.
 */
function otherProgram(port: number): string | undefined {
  let found: PortHolder | undefined;
  try {
    found = portHolder(port);
  } catch {
    return undefined; // whatever /proc holds here, the message without a name is still true
  }
  if (!found) return undefined;
  if (found.pid !== undefined) return `another program holds it (${found.name ?? 'unnamed'}, process ${found.pid})`;
  if (found.uid !== process.getuid?.())
    return `another program holds it, run by another user (uid ${found.uid}); \`sudo ss -ltnp 'sport = :${port}'\` names it`;
  return undefined;
}

/**
 * The home folder of the Errand daemon listening on `port`, among those this computer's Errand
 * knows: the default home and the login service's. Asked over their control sockets (only this
 * user can open them); /healthz never tells a home folder to whoever asks.
 */
async function errandHomeListeningOn(port: number, home: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const service = await serviceState(home, { env }).catch(() => undefined);
  const candidates = new Set([defaultHome({ ...env, ERRAND_HOME: undefined }), service?.home].filter(Boolean));
  for (const candidate of candidates) {
    if (!candidate || path.resolve(candidate) === path.resolve(home)) continue;
    try {
      const status = await controlCall(homePaths(candidate).socket, 'status', {}, { timeoutMs: 2000 });
      if (reachFromStatus(status)?.port === port) return candidate;
    } catch {
      /* no daemon there */
    }
  }
  return undefined;
}

/**
 * Whether the daemon could listen on (host, port) now: the listen `errand start` would do, opened
 * and closed at once. The error start would meet, or undefined when it would succeed.
 */
export function tryListen(host: string, port: number): Promise<ListenError | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: ListenError) => resolve(err));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}
