// The login service: plan what `errand install` / `errand uninstall` do (files and commands),
// then apply the plan through an injectable runner. A plan is data, so --dry-run prints it and
// tests check it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readConfigFile } from '../config/load.js';
import { defaultHome, homePaths } from '../config/paths.js';
import { writeFileDurablySync } from '../util/durable-file.js';
import { hasUrlCredentials, withoutUrlCredentials } from '../util/url-credentials.js';
import { formatCommand, type Runner } from './runner.js';
import {
  homeFromServiceFile,
  LAUNCHD_LABEL,
  launchdPlist,
  programFromServiceFile,
  type ServiceSpec,
  SYSTEMD_UNIT_NAME,
  systemdUnit,
} from './units.js';

export type ServiceKind = 'systemd' | 'launchd' | 'none';

export interface ServiceEnv {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
}

export function serviceKind(platform: NodeJS.Platform = process.platform): ServiceKind {
  if (platform === 'linux') return 'systemd';
  if (platform === 'darwin') return 'launchd';
  return 'none';
}

function userHome(env: NodeJS.ProcessEnv): string {
  return env.HOME && path.isAbsolute(env.HOME) ? env.HOME : os.homedir();
}

/** Where the service file lives: XDG_CONFIG_HOME/systemd/user, or ~/Library/LaunchAgents. */
export function serviceFilePath(kind: ServiceKind, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (kind === 'systemd') {
    const xdg =
      env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME)
        ? env.XDG_CONFIG_HOME
        : path.join(userHome(env), '.config');
    return path.join(xdg, 'systemd', 'user', SYSTEMD_UNIT_NAME);
  }
  if (kind === 'launchd') return path.join(userHome(env), 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
  return undefined;
}

/** The project folder: the nearest ancestor of this file that holds daemon/bin/errand.js. */
export function projectDir(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'daemon', 'bin', 'errand.js'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`Cannot find the Errand project folder above ${from}.`);
    dir = up;
  }
}

export type Step =
  | { kind: 'mkdir'; path: string; mode: number }
  | { kind: 'write'; path: string; content: string; mode: number }
  | { kind: 'remove'; path: string }
  /** mayFail: a failure is expected in some states (e.g. "not loaded") and does not stop the plan. */
  | { kind: 'run'; argv: string[]; mayFail?: boolean };

export interface Plan {
  kind: ServiceKind;
  file?: string;
  steps: Step[];
  /** Lines to tell the user after the plan ran (or would run). */
  notes: string[];
  /** Lines a dry run shows too: what the plan leaves out of the service and where it belongs instead. */
  cautions?: string[];
}

export interface PlanOptions extends ServiceEnv {
  home: string;
  /** Defaults: process.execPath, the project this file belongs to, process.getuid(). */
  node?: string;
  projectDir?: string;
  uid?: number;
}

/**
 * Settings config/load.ts reads from the environment: set where `errand install` runs, the service
 * must get them too. Never ANTHROPIC_API_KEY: the unit file is world-readable (see apiKeyNote), and
 * for the same reason no value with a password in it (see withheldNote).
 */
export const CARRIED_SETTINGS = [
  'ERRAND_PORT',
  'ERRAND_BIND',
  'ERRAND_PUBLIC_URL',
  'ERRAND_MODEL',
  'ANTHROPIC_BASE_URL',
] as const;

/**
 * The carried settings, but none whose value is a URL with a user name or password (a model
 * proxy's login in ANTHROPIC_BASE_URL): the unit file is world-readable, config.json is not.
 */
function carriedSettings(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    CARRIED_SETTINGS.filter((k) => env[k] && !hasUrlCredentials(env[k])).map((k) => [k, env[k]!]),
  );
}

/** Where a setting left out of the unit belongs in config.json. */
const CONFIG_KEY_OF: Partial<Record<(typeof CARRIED_SETTINGS)[number], string>> = {
  ANTHROPIC_BASE_URL: '"anthropic": {"baseUrl": "…"}',
  ERRAND_PUBLIC_URL: '"publicUrl": "…"',
};

/**
 * Say which settings were left out because they hold a password, and where to keep them instead
 * (nothing to say when config.json already has the same value: the service reads it there).
 */
function withheldNote(env: NodeJS.ProcessEnv, home: string): string[] {
  const withheld = CARRIED_SETTINGS.filter((k) => env[k] && hasUrlCredentials(env[k]));
  if (!withheld.length) return [];
  const file = homePaths(home).config;
  let raw: Record<string, unknown> = {};
  try {
    raw = readConfigFile(file);
  } catch {
    /* an unreadable config.json: doctor and start say what is wrong with it */
  }
  const inFile: Record<string, unknown> = {
    ANTHROPIC_BASE_URL: (raw.anthropic as Record<string, unknown> | undefined)?.baseUrl,
    ERRAND_PUBLIC_URL: raw.publicUrl,
  };
  return withheld
    .filter((k) => inFile[k] !== env[k])
    .map(
      (k) =>
        `${k} (${withoutUrlCredentials(env[k]!)}) holds a user name and password, so it is not copied into the service file, which others can read. Put it in ${file} as ${CONFIG_KEY_OF[k] ?? `"${k}"`} (only you can read that file) so the service uses it too.`,
    );
}

/** Say which settings the service takes from the environment the install ran in. */
function carriedNote(settings: Record<string, string>): string[] {
  const keys = Object.keys(settings);
  if (!keys.length) return [];
  return [
    `The service keeps ${keys.map((k) => `${k}=${settings[k]}`).join(', ')} from this shell's environment; to change ${keys.length === 1 ? 'it' : 'them'}, run \`errand install\` again with the new value (or put the setting in config.json).`,
  ];
}

/**
 * The key set only in the installing shell is not carried (the unit file is world-readable), so
 * the service would run without one: the same advice `errand doctor` gives.
 */
function apiKeyNote(env: NodeJS.ProcessEnv, home: string): string[] {
  if (!env.ANTHROPIC_API_KEY) return [];
  const file = homePaths(home).config;
  let inFile = false;
  try {
    const raw = readConfigFile(file);
    inFile = typeof (raw.anthropic as Record<string, unknown> | undefined)?.apiKey === 'string';
  } catch {
    /* an unreadable config.json: doctor and start say what is wrong with it */
  }
  if (inFile) return [];
  return [
    `Your API key is set only in this shell's ANTHROPIC_API_KEY, which the login service does not see (it is not copied into the service file, which others can read). Put the key in ${file} as "anthropic": {"apiKey": "…"} so the service has it too.`,
  ];
}

function specFor(opts: PlanOptions, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): ServiceSpec {
  const project = opts.projectDir ?? projectDir();
  const node = opts.node ?? process.execPath;
  const home = path.resolve(opts.home);
  // The Node binary's folder first, then the user's PATH, so the agent's shell finds what the
  // user's terminal finds (a login service otherwise gets a minimal PATH).
  const dirs = [path.dirname(node), ...(env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(path.delimiter)];
  const unique = [...new Set(dirs.filter((d) => d && path.isAbsolute(d)))];
  return {
    node,
    entry: path.join(project, 'daemon', 'bin', 'errand.js'),
    projectDir: project,
    home,
    path: unique.join(path.delimiter),
    settings: carriedSettings(env),
  };
}

function lingerNote(env: NodeJS.ProcessEnv): string {
  const user = env.USER || env.LOGNAME || safeUserName();
  const lingering = user ? fs.existsSync(path.join('/var/lib/systemd/linger', user)) : false;
  return lingering
    ? 'Lingering is on for your user, so Errand keeps running while you are logged out and starts at boot.'
    : 'To keep Errand running while you are logged out (and start it at boot), run: loginctl enable-linger $USER';
}

function safeUserName(): string | undefined {
  try {
    return os.userInfo().username;
  } catch {
    return undefined;
  }
}

export function planInstall(opts: PlanOptions): Plan {
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  const kind = serviceKind(platform);
  if (kind === 'none') {
    return {
      kind,
      steps: [],
      notes: [
        `A login service is not supported on ${platform} yet.`,
        "Run the daemon yourself instead: `errand start` (for example from your system's startup programs or task scheduler).",
      ],
    };
  }
  const spec = specFor(opts, env, platform);
  const file = serviceFilePath(kind, env)!;
  const logs = path.join(spec.home, 'logs');
  if (kind === 'systemd') {
    const unit = SYSTEMD_UNIT_NAME;
    return {
      kind,
      file,
      steps: [
        { kind: 'mkdir', path: path.dirname(file), mode: 0o755 },
        { kind: 'mkdir', path: logs, mode: 0o700 },
        { kind: 'write', path: file, content: systemdUnit(spec), mode: 0o644 },
        { kind: 'run', argv: ['systemctl', '--user', 'daemon-reload'] },
        { kind: 'run', argv: ['systemctl', '--user', 'enable', unit] },
        // restart, not start: a re-install takes effect at once.
        { kind: 'run', argv: ['systemctl', '--user', 'restart', unit] },
      ],
      notes: [
        'Errand now starts when you log in and restarts if it fails (but not on a configuration error).',
        'Check it with `errand status` or `errand doctor`; read its log with `errand logs -f`.',
        ...carriedNote(carriedSettings(env)),
        ...withheldNote(env, spec.home),
        ...apiKeyNote(env, spec.home),
        lingerNote(env),
      ],
      cautions: withheldNote(env, spec.home),
    };
  }
  const uid = opts.uid ?? process.getuid?.() ?? 501;
  const domain = `gui/${uid}`;
  return {
    kind,
    file,
    steps: [
      { kind: 'mkdir', path: path.dirname(file), mode: 0o755 },
      { kind: 'mkdir', path: logs, mode: 0o700 },
      // An older copy may be loaded: unload it first ("not loaded" is fine).
      { kind: 'run', argv: ['launchctl', 'bootout', `${domain}/${LAUNCHD_LABEL}`], mayFail: true },
      { kind: 'write', path: file, content: launchdPlist(spec), mode: 0o644 },
      { kind: 'run', argv: ['launchctl', 'enable', `${domain}/${LAUNCHD_LABEL}`] },
      { kind: 'run', argv: ['launchctl', 'bootstrap', domain, file] },
    ],
    notes: [
      'Errand now starts when you log in and restarts if it fails.',
      'Check it with `errand status` or `errand doctor`; read its log with `errand logs -f`.',
      ...carriedNote(carriedSettings(env)),
      ...withheldNote(env, spec.home),
      ...apiKeyNote(env, spec.home),
    ],
    cautions: withheldNote(env, spec.home),
  };
}

export function planUninstall(opts: ServiceEnv & { uid?: number } = {}): Plan {
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  const kind = serviceKind(platform);
  if (kind === 'none')
    return { kind, steps: [], notes: [`There is no login service on ${platform}; nothing to remove.`] };
  const file = serviceFilePath(kind, env)!;
  if (kind === 'systemd') {
    return {
      kind,
      file,
      steps: [
        { kind: 'run', argv: ['systemctl', '--user', 'disable', '--now', SYSTEMD_UNIT_NAME], mayFail: true },
        { kind: 'remove', path: file },
        { kind: 'run', argv: ['systemctl', '--user', 'daemon-reload'], mayFail: true },
      ],
      notes: ['The login service is removed. Your home folder (threads, devices, settings) is kept.'],
    };
  }
  const uid = opts.uid ?? process.getuid?.() ?? 501;
  return {
    kind,
    file,
    steps: [
      { kind: 'run', argv: ['launchctl', 'bootout', `gui/${uid}/${LAUNCHD_LABEL}`], mayFail: true },
      { kind: 'remove', path: file },
    ],
    notes: ['The login service is removed. Your home folder (threads, devices, settings) is kept.'],
  };
}

/** Human lines for --dry-run. */
export function describePlan(plan: Plan): string {
  const lines: string[] = [];
  for (const step of plan.steps) {
    if (step.kind === 'mkdir') lines.push(`mkdir -p ${formatCommand([step.path])}`);
    else if (step.kind === 'remove') lines.push(`rm -f ${formatCommand([step.path])}`);
    else if (step.kind === 'run')
      lines.push(formatCommand(step.argv) + (step.mayFail ? '   # may fail harmlessly' : ''));
    else {
      lines.push(`write ${step.path} (mode ${step.mode.toString(8)}):`);
      lines.push(
        ...step.content
          .trimEnd()
          .split('\n')
          .map((l) => `    ${l}`),
      );
    }
  }
  return lines.join('\n');
}

export interface ApplyResult {
  ok: boolean;
  /** The step that failed and what the program said. */
  failed?: { step: Step; message: string };
  /** Expected failures (mayFail steps), for the curious. */
  warnings: string[];
}

export async function applyPlan(plan: Plan, run: Runner, env: NodeJS.ProcessEnv = process.env): Promise<ApplyResult> {
  const warnings: string[] = [];
  for (const step of plan.steps) {
    try {
      if (step.kind === 'mkdir') fs.mkdirSync(step.path, { recursive: true, mode: step.mode });
      else if (step.kind === 'remove') fs.rmSync(step.path, { force: true });
      else if (step.kind === 'write') writeFileDurablySync(step.path, step.content, step.mode);
      else {
        const [cmd, ...args] = step.argv;
        const r = await run(cmd, args, { env });
        if (r.code !== 0) {
          const message = (r.stderr || r.stdout).trim() || `exit code ${r.code}`;
          if (step.mayFail) warnings.push(`${formatCommand(step.argv)}: ${message}`);
          else return { ok: false, failed: { step, message }, warnings };
        }
      }
    } catch (err) {
      return { ok: false, failed: { step, message: (err as Error).message }, warnings };
    }
  }
  return { ok: true, warnings };
}

/** What to tell the user when a service-manager command failed. */
export function adviceForFailure(kind: ServiceKind, message: string): string {
  if (kind === 'systemd' && /bus|XDG_RUNTIME_DIR|not been booted|Failed to connect/i.test(message)) {
    return (
      'The systemd user manager is not reachable from this shell (common over SSH, in containers or under sudo). ' +
      'Log in to a desktop session, or run `loginctl enable-linger $USER`, log in again and retry `errand install`. ' +
      'Or run the daemon yourself with `errand start`.'
    );
  }
  if (kind === 'systemd' && /not found|127/.test(message)) {
    return 'systemctl is missing: this system does not use systemd. Run the daemon yourself with `errand start`.';
  }
  return `Fix the problem above and run the command again; \`errand install --dry-run\` shows every step. Or run the daemon yourself with \`errand start\`.`;
}

export interface ServiceState {
  installed: boolean;
  kind: ServiceKind;
  unitPath?: string;
  /** The home folder the installed service runs (when installed). */
  home?: string;
  /** False when the installed service runs a different home folder than the one asked about. */
  servesThisHome?: boolean;
  /** The Node binary and entry script the service runs (they can vanish, e.g. after an nvm upgrade). */
  program?: string[];
}

/** Is the login service installed (the file exists), and for which home folder. For `errand status`. */
export async function serviceState(home: string, opts: ServiceEnv = {}): Promise<ServiceState> {
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  const kind = serviceKind(platform);
  const unitPath = serviceFilePath(kind, env);
  if (!unitPath) return { installed: false, kind };
  let text: string;
  try {
    text = await fs.promises.readFile(unitPath, 'utf8');
  } catch {
    return { installed: false, kind, unitPath };
  }
  const serviceHome = homeFromServiceFile(text) ?? defaultHome({ ...env, ERRAND_HOME: undefined }, platform);
  return {
    installed: true,
    kind,
    unitPath,
    home: serviceHome,
    servesThisHome: path.resolve(serviceHome) === path.resolve(home),
    program: programFromServiceFile(text),
  };
}

export { LAUNCHD_LABEL, SYSTEMD_UNIT_NAME } from './units.js';
