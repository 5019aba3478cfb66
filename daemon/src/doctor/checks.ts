// `errand doctor`: look at everything Errand needs and say, in plain words, what is wrong and
// how to fix it. Each check is independent; none of them changes anything.
import fs from 'node:fs';
import { isIPv6 } from 'node:net';
import path from 'node:path';
import { ConfigError, loadConfig, readConfigFile } from '../config/load.js';
import { homePaths } from '../config/paths.js';
import { type Config, ConfigSchema } from '../config/schema.js';
import { controlCall, DaemonNotRunningError } from '../control/client.js';
import { PushStore } from '../push/store.js';
import { SUBJECT_FIX, vapidSubject } from '../push/subject.js';
import { loadOrCreateVapidKeys } from '../push/vapid.js';
import { tailscaleServing } from '../remote/tailscale.js';
import { isThisComputer } from '../server/origins.js';
import { serviceState } from '../service/index.js';
import { lanServed, reachFromStatus } from '../service/reach.js';
import { execRunner, type Runner, which } from '../service/runner.js';
import { DeviceStore } from '../store/devices.js';
import { StoreCorruptError } from '../store/durable-file.js';
import { SNAPSHOT_FIX } from '../store/journal.js';
import { inspectLock, type LockState } from '../store/lock.js';
import { inspectJournal, journalDirOf } from '../store/repair.js';
import type { Logger } from '../util/log.js';
import { basicAuthOf, withoutUrlCredentials } from '../util/url-credentials.js';
import { inspectHome } from './home-check.js';
import { listenAddressProblem, listenHost, portInUseProblem, tryListen } from './listen-check.js';
import { checkThinking } from './thinking-check.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'unknown';

export interface Check {
  id: string;
  title: string;
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** The fix, in one sentence (absent when status is ok). */
  fix?: string;
}

export interface DoctorOptions {
  home: string;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  run?: Runner;
  fetch?: typeof fetch;
  /** Network timeout for the model endpoint (default 4 s). */
  timeoutMs?: number;
}

/** The part of the daemon's `status` answer doctor reads (HostStatus, loosely). */
interface DaemonStatus {
  version?: string;
  startedAt?: number;
  origins?: string[];
  /** The origins its socket serves now (from its --port/--lan, not only config.json). */
  listening?: string[];
  connectors?: { name: string; status: string; reason?: string }[];
  sandbox?: { enabled: boolean; reason?: string };
}

const DEFAULT_BASE_URL = 'https://api.anthropic.com';
/** For the loaders doctor borrows from start: what they would log is not doctor's output. */
const QUIET: Logger = { debug() {}, info() {}, warn() {}, error() {}, close() {} };

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} days`;
}

function gb(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.round(bytes / 1e6)} MB`;
}

async function checkDaemon(
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

async function checkService(home: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): Promise<Check> {
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

function checkApiKey(
  config: Config,
  rawConfig: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  serviceInstalled: boolean,
  configFile: string,
): Check {
  const inFile = typeof (rawConfig.anthropic as Record<string, unknown> | undefined)?.apiKey === 'string';
  const inEnv = Boolean(env.ANTHROPIC_API_KEY);
  if (!config.anthropic.apiKey) {
    if (config.anthropic.baseUrl) {
      return {
        id: 'apiKey',
        title: 'API key',
        status: 'warn',
        detail: `not set (fine if your model server at ${withoutUrlCredentials(config.anthropic.baseUrl)} needs none)`,
        fix: `If it needs one, set "anthropic": {"apiKey": "…"} in ${configFile}.`,
      };
    }
    return {
      id: 'apiKey',
      title: 'API key',
      status: 'fail',
      detail: 'no Anthropic API key is configured',
      fix: `Create a key at https://console.anthropic.com/settings/keys and put it in ${configFile} as "anthropic": {"apiKey": "sk-ant-…"} (or set ANTHROPIC_API_KEY).`,
    };
  }
  if (!inFile && inEnv && serviceInstalled) {
    return {
      id: 'apiKey',
      title: 'API key',
      status: 'warn',
      detail: "set only in this shell's ANTHROPIC_API_KEY, which the login service does not see",
      fix: `Put the key in ${configFile} as "anthropic": {"apiKey": "…"} so the service has it too.`,
    };
  }
  return {
    id: 'apiKey',
    title: 'API key',
    status: 'ok',
    detail: inFile ? 'set in config.json' : 'set in ANTHROPIC_API_KEY',
  };
}

/** A fetch that failed before any network traffic (a URL or header fetch refuses) is no sign of being offline. */
function failedOnTheNetwork(err: unknown): boolean {
  const name = (err as { name?: string }).name;
  if (name === 'TimeoutError' || name === 'AbortError') return true;
  // undici wraps every connection failure (refused, DNS, TLS, reset) in TypeError('fetch failed').
  return err instanceof TypeError && err.message === 'fetch failed';
}

async function checkModelEndpoint(config: Config, doFetch: typeof fetch, timeoutMs: number): Promise<Check> {
  const configured = (config.anthropic.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  // Shown without a user name and password; fetch refuses a URL with them, so they go as a header,
  // as node:http (the model client) sends them.
  const base = withoutUrlCredentials(configured);
  const custom = Boolean(config.anthropic.baseUrl);
  const title = 'Model endpoint';
  const apiKey = config.anthropic.apiKey;
  // An error message can quote what was sent (an invalid header value): never the key.
  const said = (err: unknown) => {
    const text = withoutUrlCredentials((err as Error).message ?? String(err));
    return apiKey ? text.split(apiKey).join('<api key>') : text;
  };
  let login: string | undefined;
  let endpoint: string;
  try {
    const url = new URL(configured);
    login = basicAuthOf(url);
    url.username = '';
    url.password = '';
    endpoint = url.href.replace(/\/+$/, '');
  } catch (err) {
    return {
      id: 'model',
      title,
      status: 'fail',
      detail: `this URL cannot be used: ${base} (${said(err)})`,
      fix: 'Correct anthropic.baseUrl in config.json (or ANTHROPIC_BASE_URL): a user name or password in it must be percent-encoded.',
    };
  }
  try {
    const headers: Record<string, string> = { 'anthropic-version': '2023-06-01' };
    if (apiKey) headers['x-api-key'] = apiKey;
    if (login) headers.authorization = login;
    // GET /v1/models is free and tells a rejected key apart from a reachable endpoint.
    const res = await doFetch(`${endpoint}/v1/models`, {
      method: 'GET',
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel().catch(() => undefined);
    if ((res.status === 401 || res.status === 403) && (apiKey || login)) {
      const what =
        apiKey && login
          ? 'the API key or the user name and password'
          : apiKey
            ? 'the API key'
            : 'the user name and password';
      return {
        id: 'model',
        title,
        status: 'fail',
        detail: `${base} rejected ${what} (HTTP ${res.status})`,
        fix: login
          ? 'Check the user name and password in anthropic.baseUrl and the key (anthropic.apiKey) in config.json.'
          : 'Check the key in config.json (anthropic.apiKey) or create a new one at https://console.anthropic.com/settings/keys.',
      };
    }
    return { id: 'model', title, status: 'ok', detail: `${base} answers (HTTP ${res.status})` };
  } catch (err) {
    // fetch refuses some ports outright (1, 6000, 6665-6669 …: its blocked-port list), before any
    // network traffic; the model client uses fetch too, so no task can reach a server there.
    if ((err as { cause?: { message?: string } }).cause?.message === 'bad port') {
      return {
        id: 'model',
        title,
        status: 'fail',
        detail: `port ${new URL(endpoint).port} of ${base} cannot be used: the model client (fetch) refuses to connect to it`,
        fix: 'Run your model server on another port (such as 8080), then correct anthropic.baseUrl in config.json (or ANTHROPIC_BASE_URL).',
      };
    }
    if (!failedOnTheNetwork(err)) {
      return {
        id: 'model',
        title,
        status: 'warn',
        detail: custom
          ? `this URL cannot be used: ${base} (${said(err)})`
          : `the request to ${base} could not be made (${said(err)})`,
        fix: custom
          ? 'Correct anthropic.baseUrl in config.json (or ANTHROPIC_BASE_URL).'
          : 'Check anthropic.apiKey in config.json (or ANTHROPIC_API_KEY) for stray characters such as spaces or line breaks.',
      };
    }
    const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as { name?: string }).name ?? '';
    if (custom && code === 'ECONNREFUSED') {
      return {
        id: 'model',
        title,
        status: 'fail',
        detail: `nothing answers at ${base}`,
        fix: 'Start your model server, or correct anthropic.baseUrl in config.json.',
      };
    }
    // A server on this computer that accepts and never answers (or drops the connection): the
    // internet is not the cause. A name that does not resolve (ENOTFOUND) still may be.
    const lookupFailed = code === 'ENOTFOUND' || code === 'EAI_AGAIN';
    if (custom && !lookupFailed && isThisComputer(new URL(endpoint).hostname)) {
      return {
        id: 'model',
        title,
        status: 'warn',
        detail: `the server at ${base} does not answer (${code || said(err)})`,
        fix: 'It runs on this computer: check that your model server is running and not stuck (or busy with another request), or correct anthropic.baseUrl in config.json (or ANTHROPIC_BASE_URL).',
      };
    }
    return {
      id: 'model',
      title,
      status: 'unknown',
      detail: `could not reach ${base} (${code || said(err)}); this computer may be offline`,
      fix: 'Check the internet connection (and any proxy or firewall); tasks retry when the connection is back.',
    };
  }
}

/**
 * For a stopped daemon: the listen `errand start` would do, tried and closed at once, so a port in
 * use or a `bind` that is not on this computer is found before start refuses it (in start's words).
 */
async function checkListen(config: Config, home: string, env: NodeJS.ProcessEnv): Promise<Check> {
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

function checkRoots(config: Config, workspace: string): Check[] {
  const checks: Check[] = [];
  const ws = fs.existsSync(workspace);
  checks.push(
    ws
      ? { id: 'root:workspace', title: 'Workspace folder', status: 'ok', detail: workspace }
      : {
          id: 'root:workspace',
          title: 'Workspace folder',
          status: 'warn',
          detail: `${workspace} does not exist yet`,
          fix: 'It is created when the daemon starts: run `errand start`.',
        },
  );
  for (const root of config.roots) {
    const title = `Root ${root}`;
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(root);
    } catch {
      st = undefined;
    }
    if (!st) {
      checks.push({
        id: `root:${root}`,
        title,
        status: 'fail',
        detail: 'does not exist',
        fix: `Create the folder ${root}, or remove it from "roots" in config.json.`,
      });
    } else if (!st.isDirectory()) {
      checks.push({
        id: `root:${root}`,
        title,
        status: 'fail',
        detail: 'is not a folder',
        fix: `Replace ${root} in "roots" in config.json with a folder.`,
      });
    } else {
      try {
        fs.accessSync(root, fs.constants.R_OK | fs.constants.X_OK);
        checks.push({ id: `root:${root}`, title, status: 'ok', detail: 'exists' });
      } catch {
        checks.push({
          id: `root:${root}`,
          title,
          status: 'fail',
          detail: 'cannot be read by this user',
          fix: `Give your user read access to ${root} (chmod/chown), or remove it from "roots".`,
        });
      }
    }
  }
  if (config.roots.length === 0) {
    checks.push({
      id: 'roots',
      title: 'Roots',
      status: 'ok',
      detail: 'no extra folders allowed; the agent works in the workspace folder only',
    });
  }
  return checks;
}

async function checkSandbox(
  config: Config,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
  run: Runner,
  daemon?: DaemonStatus,
): Promise<Check> {
  const title = 'Shell sandbox';
  if (config.shell.sandbox === 'off') {
    return {
      id: 'sandbox',
      title,
      status: 'warn',
      detail: 'turned off in config.json (shell.sandbox = "off")',
      fix: 'Set shell.sandbox to "auto" so shell commands run in a sandbox.',
    };
  }
  if (daemon?.sandbox && !daemon.sandbox.enabled) {
    return {
      id: 'sandbox',
      title,
      status: 'warn',
      detail: `the daemon runs shell commands without a sandbox${daemon.sandbox.reason ? `: ${daemon.sandbox.reason}` : ''}`,
      fix: sandboxFix(platform),
    };
  }
  if (platform === 'linux') {
    const missing = ['bwrap', 'socat', 'rg'].filter((b) => !which(b, env));
    if (missing.length) {
      return {
        id: 'sandbox',
        title,
        status: 'warn',
        detail: `${missing.join(' and ')} not found`,
        fix: sandboxFix(platform),
      };
    }
    const r = await run('bwrap', ['--ro-bind', '/', '/', '--dev', '/dev', '--unshare-net', 'true'], {
      env,
      timeoutMs: 5000,
    });
    if (r.code !== 0) {
      return {
        id: 'sandbox',
        title,
        status: 'warn',
        detail: `bubblewrap cannot start a sandbox here: ${r.stderr.trim() || `exit code ${r.code}`}`,
        fix: 'Allow unprivileged user namespaces (on Ubuntu 24.04+: an AppArmor profile for bwrap, or sysctl kernel.apparmor_restrict_unprivileged_userns=0).',
      };
    }
    return { id: 'sandbox', title, status: 'ok', detail: 'bubblewrap, socat and ripgrep work' };
  }
  if (platform === 'darwin') {
    return fs.existsSync('/usr/bin/sandbox-exec')
      ? { id: 'sandbox', title, status: 'ok', detail: 'sandbox-exec available' }
      : { id: 'sandbox', title, status: 'warn', detail: 'sandbox-exec not found', fix: sandboxFix(platform) };
  }
  return { id: 'sandbox', title, status: 'warn', detail: `no sandbox on ${platform}`, fix: sandboxFix(platform) };
}

function sandboxFix(platform: NodeJS.Platform): string {
  if (platform === 'linux')
    return 'Install bubblewrap, socat and ripgrep (Debian/Ubuntu: `sudo apt install bubblewrap socat ripgrep`; Fedora: `sudo dnf install bubblewrap socat ripgrep`).';
  if (platform === 'darwin') return 'sandbox-exec ships with macOS; check that /usr/bin/sandbox-exec exists.';
  return 'Shell commands cannot be sandboxed on this system; keep shell approvals on.';
}

/** A `bind` only this computer can reach (config/schema.ts accepts IP literals and localhost). */
const LOOPBACK_BIND = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;

async function checkOrigin(
  config: Config,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
  run: Runner,
  running: DaemonStatus | undefined,
): Promise<Check> {
  const title = 'Phone access';
  // The running daemon says where it answers (it may run with --port or --lan); config.json only
  // says where it will answer when it starts.
  const reach = running && reachFromStatus(running);
  const port = reach?.port ?? config.port;
  // Stopped, it will listen where `bind` says: a network address there is plain HTTP, as LAN mode.
  const bound = `http://${isIPv6(config.bind) ? `[${config.bind}]` : config.bind}:${port}`;
  const bindOnNetwork = !LOOPBACK_BIND.test(config.bind);
  const lan = reach ? lanServed(reach).length > 0 : config.lan || bindOnNetwork;
  const ts = await tailscaleServing({ run, env, platform }, port).catch(() => undefined);
  if (config.publicUrl) {
    const publicUrl = withoutUrlCredentials(config.publicUrl);
    if (/\.ts\.net$/i.test(new URL(config.publicUrl).hostname) && ts?.installed && !ts.serving) {
      return {
        id: 'origin',
        title,
        status: 'warn',
        detail: `publicUrl is ${publicUrl}, but Tailscale Serve does not send it to Errand`,
        fix: 'Run `errand expose tailscale` again.',
      };
    }
    if (ts?.funnel) {
      return {
        id: 'origin',
        title,
        status: 'warn',
        detail: `${publicUrl} is on the public internet (Tailscale Funnel)`,
        fix: 'Unless you need it, run `errand expose tailscale` (without --funnel) to keep it inside your tailnet.',
      };
    }
    return { id: 'origin', title, status: 'ok', detail: `the phone uses ${publicUrl} (HTTPS)` };
  }
  if (lan) {
    return {
      id: 'origin',
      title,
      status: 'warn',
      detail: reach
        ? `LAN mode over plain HTTP (${lanServed(reach).join(', ')}): no app install, push or offline on the phone`
        : config.lan
          ? 'LAN mode over plain HTTP: no app install, push or offline on the phone'
          : `plain HTTP at ${bound} (the "bind" setting): no app install, push or offline on the phone`,
      fix: 'Run `errand expose tailscale` (or `errand expose url <https-url>` for your own proxy) for a secure address.',
    };
  }
  return {
    id: 'origin',
    title,
    status: 'warn',
    detail: `only this computer can open Errand (${reach ? `http://127.0.0.1:${port}` : bound})`,
    fix: ts?.installed
      ? 'Run `errand expose tailscale` to reach it securely from your phone.'
      : 'Install Tailscale and run `errand expose tailscale`, or put an HTTPS proxy in front and run `errand expose url <https-url>`.',
  };
}

function checkPushKeys(vapid: string, daemonRunning: boolean): Check {
  if (fs.existsSync(vapid)) return { id: 'push', title: 'Push keys', status: 'ok', detail: 'present' };
  return {
    id: 'push',
    title: 'Push keys',
    status: 'warn',
    detail: `missing (${vapid})`,
    fix: daemonRunning
      ? 'Restart the daemon; it creates the keys when it starts.'
      : 'They are created when the daemon first starts: run `errand start`.',
  };
}

function checkPushSubject(config: Config): Check {
  const s = vapidSubject(config);
  const title = 'Push contact';
  if (!s.problem) return { id: 'pushSubject', title, status: 'ok', detail: s.subject };
  return { id: 'pushSubject', title, status: 'warn', detail: s.problem, fix: SUBJECT_FIX };
}

function checkConnectors(config: Config, daemon?: DaemonStatus): Check {
  const title = 'Connectors';
  const enabled = config.connectors.filter((c) => c.enabled);
  if (config.connectors.length === 0)
    return { id: 'connectors', title, status: 'ok', detail: 'none configured (optional)' };
  const summary = `${config.connectors.length} configured, ${enabled.length} enabled`;
  const failed = (daemon?.connectors ?? []).filter((c) => c.status === 'failed');
  if (failed.length) {
    return {
      id: 'connectors',
      title,
      status: 'warn',
      detail: `${summary}; failing: ${failed.map((c) => `${c.name}${c.reason ? ` (${withoutUrlCredentials(c.reason)})` : ''}`).join(', ')}`,
      fix: "Check each failing connector's command or URL in config.json, then restart the daemon.",
    };
  }
  if (daemon?.connectors) {
    const connected = daemon.connectors.filter((c) => c.status === 'connected').length;
    return { id: 'connectors', title, status: 'ok', detail: `${summary}; ${connected} connected` };
  }
  return { id: 'connectors', title, status: 'ok', detail: summary };
}

async function checkDisk(home: string): Promise<Check> {
  let dir = home;
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  try {
    const s = await fs.promises.statfs(dir);
    const free = s.bavail * s.bsize;
    if (free < 200e6)
      return {
        id: 'disk',
        title: 'Disk space',
        status: 'fail',
        detail: `${gb(free)} free where the home folder is`,
        fix: 'Free some disk space: Errand stops saving work when the disk is full.',
      };
    if (free < 1e9)
      return {
        id: 'disk',
        title: 'Disk space',
        status: 'warn',
        detail: `${gb(free)} free where the home folder is`,
        fix: 'Free some disk space soon (under 1 GB left).',
      };
    return { id: 'disk', title: 'Disk space', status: 'ok', detail: `${gb(free)} free` };
  } catch (err) {
    return {
      id: 'disk',
      title: 'Disk space',
      status: 'unknown',
      detail: `could not measure (${(err as Error).message})`,
    };
  }
}

function checkJournal(paths: ReturnType<typeof homePaths>): Check {
  const title = 'Store journal';
  try {
    const h = inspectJournal(journalDirOf(paths));
    if (h.status === 'damaged')
      return {
        id: 'journal',
        title,
        status: 'fail',
        detail: h.detail,
        fix: 'Stop Errand and run `errand repair`: it keeps a copy, cuts the journal at the last good record and says what was dropped.',
      };
    if (h.status === 'snapshot')
      return { id: 'journal', title, status: 'fail', detail: h.detail, fix: h.fix ?? SNAPSHOT_FIX };
    if (h.status === 'lost')
      return {
        id: 'journal',
        title,
        status: 'fail',
        detail: h.detail,
        fix:
          h.fix ??
          `If you have a copy of the missing segment file (another disk, a backup), put it back in ${journalDirOf(paths)}. Otherwise stop Errand and run \`errand repair\`: it keeps a copy and goes on from what is left (the lost changes cannot be recovered).`,
      };
    if (h.status === 'covered-damage')
      return {
        id: 'journal',
        title,
        status: 'warn',
        detail: h.detail,
        fix: 'Nothing to do to keep using Errand. To remove the damaged bytes, stop Errand and run `errand repair`: it keeps a copy and removes only them.',
      };
    if (h.status === 'torn') return { id: 'journal', title, status: 'ok', detail: h.detail };
    return { id: 'journal', title, status: 'ok', detail: h.detail };
  } catch (err) {
    return { id: 'journal', title, status: 'unknown', detail: `could not read it (${(err as Error).message})` };
  }
}

/**
 * The small store files start opens (devices.json, push.json, vapid.json), checked by the code that
 * opens them at start, so a file start would refuse gets start's own message and fix. Opening an
 * existing file reads it and changes nothing.
 */
async function checkStoreFile(
  file: string,
  open: () => Promise<string | Omit<Check, 'id' | 'title'>>,
): Promise<Check | undefined> {
  const name = path.basename(file);
  const id = `storeFile:${name}`;
  const title = `Store file ${name}`;
  if (!fs.existsSync(file)) return undefined; // start writes it; nothing to check yet
  try {
    const found = await open();
    return typeof found === 'string' ? { id, title, status: 'ok', detail: found } : { id, title, ...found };
  } catch (err) {
    if (err instanceof StoreCorruptError)
      return { id, title, status: 'fail', detail: `${err.problem}: Errand will not start`, fix: err.message };
    return { id, title, status: 'unknown', detail: `could not check ${file} (${(err as Error).message})` };
  }
}

function checkStoreFiles(paths: ReturnType<typeof homePaths>): Promise<Array<Check | undefined>> {
  return Promise.all([
    checkStoreFile(path.join(paths.store, 'devices.json'), async () => {
      const n = (await DeviceStore.open(paths.store)).list().length;
      return `valid (${n} paired device${n === 1 ? '' : 's'})`;
    }),
    checkStoreFile(path.join(paths.store, 'push.json'), async () => {
      const n = (await PushStore.open(paths.store)).subscriptions().length;
      return `valid (${n} push subscription${n === 1 ? '' : 's'})`;
    }),
    checkStoreFile(paths.vapid, async () => {
      // Start tightens a key file others can read: a change doctor does not make, so it only says so.
      if (process.platform !== 'win32' && fs.statSync(paths.vapid).mode & 0o077)
        return {
          status: 'warn',
          detail: `${paths.vapid} (the private push key) can be read by other users`,
          fix: `Run \`chmod 600 ${paths.vapid}\` (the next start does it too).`,
        };
      await loadOrCreateVapidKeys(paths.vapid, QUIET);
      return 'valid key pair';
    }),
  ]);
}

export async function runDoctor(opts: DoctorOptions): Promise<Check[]> {
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  const run = opts.run ?? execRunner;
  const paths = homePaths(opts.home);
  const checks: Check[] = [];

  let config: Config;
  let raw: Record<string, unknown> = {};
  try {
    raw = readConfigFile(paths.config);
    config = loadConfig({ home: opts.home, env });
    checks.push({
      id: 'config',
      title: 'Configuration',
      status: 'ok',
      detail: fs.existsSync(paths.config) ? paths.config : 'defaults (no config.json yet)',
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    checks.push({
      id: 'config',
      title: 'Configuration',
      status: 'fail',
      detail: err.message,
      fix: `Correct ${paths.config}; the daemon will not start until it is valid.`,
    });
    config = ConfigSchema.parse({});
    if (env.ANTHROPIC_API_KEY) config.anthropic.apiKey = env.ANTHROPIC_API_KEY;
  }

  checks.push({ id: 'home', title: 'Home folder', ...inspectHome(opts.home) });
  const [daemon, service] = await Promise.all([
    checkDaemon(paths.socket, paths.lock),
    checkService(opts.home, env, platform),
  ]);
  checks.push(daemon.check, service);
  const configValid = checks.find((c) => c.id === 'config')?.status === 'ok';
  const [model, sandbox, origin, disk, listen] = await Promise.all([
    checkModelEndpoint(config, opts.fetch ?? fetch, opts.timeoutMs ?? 4000),
    checkSandbox(config, env, platform, run, daemon.status),
    checkOrigin(config, env, platform, run, daemon.status),
    checkDisk(opts.home),
    // Only for a stopped daemon (a running one holds its port) with a configuration start accepts.
    daemon.notRunning && configValid ? checkListen(config, opts.home, env) : undefined,
  ]);
  checks.push(checkApiKey(config, raw, env, service.status === 'ok', paths.config), model, checkThinking(config));
  checks.push(...checkRoots(config, paths.workspace));
  checks.push(
    sandbox,
    ...(listen ? [listen] : []),
    origin,
    checkPushKeys(paths.vapid, Boolean(daemon.status)),
    checkPushSubject(config),
    checkConnectors(config, daemon.status),
    checkJournal(paths),
    ...(await checkStoreFiles(paths)).filter((c): c is Check => c !== undefined),
    disk,
  );
  return checks;
}

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', unknown: '??  ' };

export function formatChecks(checks: Check[], home: string): string {
  const width = Math.min(28, Math.max(...checks.map((c) => c.title.length)));
  const lines = [`Errand doctor (home: ${home})`, ''];
  for (const c of checks) {
    lines.push(`  ${MARK[c.status]}  ${c.title.padEnd(width)}  ${c.detail}`);
    if (c.fix && c.status !== 'ok') lines.push(`        ${' '.repeat(width)}  → ${c.fix}`);
  }
  const fails = checks.filter((c) => c.status === 'fail').length;
  const warns = checks.filter((c) => c.status === 'warn').length;
  lines.push(
    '',
    fails
      ? `${fails} problem${fails > 1 ? 's' : ''} to fix${warns ? `, ${warns} warning${warns > 1 ? 's' : ''}` : ''}.`
      : warns
        ? `No problems; ${warns} warning${warns > 1 ? 's' : ''}.`
        : 'All good.',
  );
  return lines.join('\n');
}
