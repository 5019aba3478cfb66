// The files a login service is made of: a systemd user unit (Linux) and a LaunchAgent plist (macOS).
// Pure functions of their inputs, so tests can verify them without installing anything.
import path from 'node:path';
import { DAEMON_ENV, DAEMON_NODE_FLAGS } from '../util/node-flags.js';

export const SYSTEMD_UNIT_NAME = 'errand.service';
export const LAUNCHD_LABEL = 'dev.errand.daemon';

/** Exit codes after which restarting cannot help (see config/load.ts and store/). */
export const EXIT_CONFIG = 78; // EX_CONFIG: invalid configuration
export const EXIT_DATAERR = 65; // EX_DATAERR: a corrupt store, kept untouched for the user
// EX_TEMPFAIL: another daemon holds the lock. Under a service manager `errand start` waits for it
// instead (service/lock-wait.ts), as it waits out a full disk (74, EX_IOERR): restarts on either
// would hit the start limit below and stop for good, and nothing would start once it heals.
export const EXIT_TEMPFAIL = 75;
/** Seconds the service manager gives the daemon to stop before it kills it. */
export const STOP_TIMEOUT_SECONDS = 20;

export interface ServiceSpec {
  /** Absolute path of the Node binary (process.execPath). */
  node: string;
  /** Absolute path of daemon/bin/errand.js. */
  entry: string;
  /** The project folder (working directory). */
  projectDir: string;
  /**
   * The home folder, always written to the unit: the service manager does not pass on the
   * installing shell's XDG_STATE_HOME, so a "default" home could differ there.
   */
  home: string;
  /** PATH for the daemon, so the agent's shell finds the same tools as the user's terminal. */
  path?: string;
  /** Settings that came from the installing shell's environment (ERRAND_PORT …): the service gets them too. */
  settings?: Record<string, string>;
}

// --- systemd ---------------------------------------------------------------------------------

/** Quote a word for ExecStart=: double quotes, with systemd's own specifier (%) and variable ($) escaping. */
function systemdWord(word: string): string {
  return `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
}

/** One Environment= line; values are quoted, % escaped (Environment= does not expand $). */
function systemdEnv(name: string, value: string): string {
  return `Environment="${name}=${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')}"`;
}

function assertNoNewline(spec: ServiceSpec): void {
  for (const v of [
    spec.node,
    spec.entry,
    spec.projectDir,
    spec.home,
    spec.path ?? '',
    ...Object.values(spec.settings ?? {}),
  ]) {
    if (/[\r\n\0]/.test(v))
      throw new Error(`A path contains a line break, which a service file cannot hold: ${JSON.stringify(v)}`);
  }
}

export function systemdUnit(spec: ServiceSpec): string {
  assertNoNewline(spec);
  const env = [systemdEnv('ERRAND_SUPERVISOR', 'systemd')];
  env.push(systemdEnv('ERRAND_HOME', spec.home));
  if (spec.path) env.push(systemdEnv('PATH', spec.path));
  for (const [k, v] of Object.entries(DAEMON_ENV)) env.push(systemdEnv(k, v));
  for (const [k, v] of Object.entries(spec.settings ?? {})) env.push(systemdEnv(k, v));
  return [
    '# Written by `errand install`; remove it with `errand uninstall`.',
    '[Unit]',
    'Description=Errand daemon (your desktop AI agent, with a phone remote)',
    // Give up after 5 failed starts in 5 minutes instead of looping forever.
    'StartLimitIntervalSec=300',
    'StartLimitBurst=5',
    '',
    '[Service]',
    'Type=simple',
    `WorkingDirectory=${spec.projectDir.replace(/%/g, '%%')}`,
    `ExecStart=${[spec.node, ...DAEMON_NODE_FLAGS, spec.entry, 'start'].map(systemdWord).join(' ')}`,
    ...env,
    'Restart=on-failure',
    'RestartSec=5',
    // A configuration error or a corrupt store will not fix itself: do not restart-loop on them.
    `RestartPreventExitStatus=${EXIT_CONFIG} ${EXIT_DATAERR}`,
    // SIGTERM to the daemon first (it checkpoints and exits); whatever is left of its children
    // (agent shell commands, MCP servers) is killed with it when it is gone or the timeout ends.
    'KillMode=mixed',
    'KillSignal=SIGTERM',
    `TimeoutStopSec=${STOP_TIMEOUT_SECONDS}`,
    'UMask=0077',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}

// --- launchd ---------------------------------------------------------------------------------

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

function plistValue(value: PlistValue, indent: string): string {
  if (typeof value === 'string') return `${indent}<string>${xml(value)}</string>`;
  if (typeof value === 'number') return `${indent}<integer>${Math.trunc(value)}</integer>`;
  if (typeof value === 'boolean') return `${indent}<${value}/>`;
  if (Array.isArray(value)) {
    return [`${indent}<array>`, ...value.map((v) => plistValue(v, indent + '  ')), `${indent}</array>`].join('\n');
  }
  const lines = [`${indent}<dict>`];
  for (const [k, v] of Object.entries(value)) {
    lines.push(`${indent}  <key>${xml(k)}</key>`, plistValue(v, indent + '  '));
  }
  lines.push(`${indent}</dict>`);
  return lines.join('\n');
}

export function launchdPlist(spec: ServiceSpec): string {
  assertNoNewline(spec);
  const env: Record<string, string> = { ERRAND_SUPERVISOR: 'launchd', ...DAEMON_ENV, ERRAND_HOME: spec.home };
  if (spec.path) env.PATH = spec.path;
  Object.assign(env, spec.settings ?? {});
  const serviceLog = path.join(spec.home, 'logs', 'service.log');
  const dict: Record<string, PlistValue> = {
    Label: LAUNCHD_LABEL,
    ProgramArguments: [spec.node, ...DAEMON_NODE_FLAGS, spec.entry, 'start'],
    WorkingDirectory: spec.projectDir,
    EnvironmentVariables: env,
    RunAtLoad: true,
    // Restart after a crash or a failed exit; launchd cannot exclude exit codes, so a configuration
    // error is retried at most every ThrottleInterval seconds (the daemon logs why each time).
    KeepAlive: { SuccessfulExit: false, Crashed: true },
    ThrottleInterval: 30,
    // SIGTERM, then SIGKILL for the daemon and its process group after this many seconds.
    ExitTimeOut: STOP_TIMEOUT_SECONDS,
    ProcessType: 'Standard',
    Umask: 0o077,
    StandardOutPath: serviceLog,
    StandardErrorPath: serviceLog,
  };
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<!-- Written by `errand install`; remove it with `errand uninstall`. -->',
    '<plist version="1.0">',
    plistValue(dict, ''),
    '</plist>',
    '',
  ].join('\n');
}

/** Read back ERRAND_HOME from a unit or plist we wrote (undefined: an older file, which ran the default home). */
export function homeFromServiceFile(text: string): string | undefined {
  const sd = /^Environment="ERRAND_HOME=((?:[^"\\]|\\.)*)"$/m.exec(text);
  if (sd) return sd[1].replace(/\\(.)/g, '$1').replace(/%%/g, '%');
  const ld = /<key>ERRAND_HOME<\/key>\s*<string>([^<]*)<\/string>/.exec(text);
  if (ld) {
    return ld[1]
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&');
  }
  return undefined;
}

/** The program a unit or plist we wrote runs: [node, entry], for checking they still exist. */
export function programFromServiceFile(text: string): string[] | undefined {
  const sd = /^ExecStart=(.*)$/m.exec(text);
  if (sd) {
    const words = [...sd[1].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) =>
      m[1].replace(/\\(.)/g, '$1').replace(/%%/g, '%').replace(/\$\$/g, '$'),
    );
    const program = words.filter((w) => !w.startsWith('--'));
    return program.length ? program.slice(0, 2) : undefined;
  }
  const ld = /<key>ProgramArguments<\/key>\s*<array>([\s\S]*?)<\/array>/.exec(text);
  if (ld) {
    const words = [...ld[1].matchAll(/<string>([^<]*)<\/string>/g)].map((m) =>
      m[1]
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&quot;/g, '"')
        .replace(/&amp;/g, '&'),
    );
    return words.filter((w) => !w.startsWith('--')).slice(0, 2);
  }
  return undefined;
}
