// Load config.json, apply environment overrides, validate. An invalid value names its key and what is allowed.
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { writeFileDurablySync } from '../util/durable-file.js';
import { PARSE_ONCE } from '../util/parse-once.js';
import { withConfigLock } from './config-lock.js';
import { homePaths } from './paths.js';
import { MAX_PORT, portFromDigits } from './port.js';
import { type Config, ConfigSchema } from './schema.js';

export class ConfigError extends Error {
  readonly exitCode = 78; // EX_CONFIG: the service manager must not restart on this
  constructor(
    message: string,
    /** The environment variable whose value is wrong, when it is one (not config.json). */
    readonly variable?: string,
  ) {
    super(message);
  }
}

/**
 * config.json could not be saved for want of space. The file is as it was: it is replaced whole,
 * through a temp file. `code` (ENOSPC or EDQUOT) is kept for callers that go by the file-system code.
 */
export class ConfigDiskFullError extends Error {
  readonly code: string;
  readonly path: string;
  constructor(file: string, code: string) {
    super(`The disk is full at ${file}; nothing was changed. Free some space and try again.`);
    this.code = code;
    this.path = file;
  }
}

export interface LoadOptions {
  home: string;
  env?: NodeJS.ProcessEnv;
  /** Command-line overrides, e.g. { port: 8080 }. */
  overrides?: { port?: number; lan?: boolean; bind?: string };
}

export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`Cannot read ${file}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON (${(err as Error).message}). Fix or remove the file.`);
  }
  // `[]` or `null` is valid JSON, only not settings: say what is wrong with it, not that it is not JSON.
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(
      `${file} holds ${value === null ? 'null' : Array.isArray(value) ? 'a list' : `a ${typeof value}`}, but its top level must be an object of settings, like {"port": 7345}. Fix or remove the file.`,
    );
  return value as Record<string, unknown>;
}

/**
 * config.json may hold the API key: one others can read (written by hand, an editor's default mode)
 * is made owner-only at start, as vapid.json is. Returns what to warn about, or undefined.
 */
export function makeConfigFilePrivate(file: string): string | undefined {
  if (process.platform === 'win32') return undefined;
  let mode: number;
  try {
    mode = fs.statSync(file).mode;
  } catch {
    return undefined; // no config.json: nothing to protect
  }
  if (!(mode & 0o077)) return undefined;
  try {
    fs.chmodSync(file, 0o600);
    return `${file} could be read by other users (it may hold the API key); it is now mode 0600 (owner only).`;
  } catch (err) {
    return `${file} can be read by other users (it may hold the API key), and it could not be made private (${(err as Error).message}): run \`chmod 600 ${file}\`.`;
  }
}

/** ERRAND_PORT, checked here so a bad value names the variable, not config.json's "port". */
function envPort(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.ERRAND_PORT;
  if (raw === undefined || raw === '') return undefined;
  const port = portFromDigits(raw);
  if (port === undefined)
    throw new ConfigError(
      `ERRAND_PORT="${raw}" is not valid: expected a port number from 1 to ${MAX_PORT} (0 picks any free port), in decimal digits. Correct or unset ERRAND_PORT.`,
      'ERRAND_PORT',
    );
  return port;
}

export function describeIssue(issue: z.core.$ZodIssue, source: string): string {
  const key = issue.path.length ? issue.path.join('.') : '(top level)';
  return `Invalid configuration in ${source}: "${key}" ${issue.message.replace(/^Invalid input: /, '')}`;
}

/** An invalid value from the environment names the variable the user set, not only the key it sets. */
function overrideError(issue: z.core.$ZodIssue, variables: Map<string, string>): ConfigError {
  const variable = variables.get(issue.path.join('.'));
  if (!variable) return new ConfigError(describeIssue(issue, 'the environment or command line'));
  const what = issue.message.replace(/^Invalid input: /, '');
  return new ConfigError(
    `${variable} is not valid ("${issue.path.join('.')}" ${what}). Correct or unset ${variable}.`,
    variable,
  );
}

export function loadConfig(opts: LoadOptions): Config {
  const env = opts.env ?? process.env;
  const file = homePaths(opts.home).config;
  const raw = readConfigFile(file);
  const parsed = ConfigSchema.safeParse(raw, PARSE_ONCE);
  if (!parsed.success) throw new ConfigError(describeIssue(parsed.error.issues[0], file));
  const config = parsed.data;

  const port = opts.overrides?.port ?? envPort(env);
  if (port !== undefined) config.port = port;
  // Which variable set which key: an invalid value then names what the user set.
  const variables = new Map<string, string>();
  const fromEnv = (variable: string, key: string, apply: (value: string) => void) => {
    const value = env[variable];
    if (!value) return;
    apply(value);
    variables.set(key, variable);
  };
  fromEnv('ERRAND_BIND', 'bind', (v) => (config.bind = v));
  if (opts.overrides?.bind) {
    config.bind = opts.overrides.bind;
    variables.delete('bind');
  }
  if (opts.overrides?.lan) config.lan = true;
  fromEnv('ERRAND_PUBLIC_URL', 'publicUrl', (v) => (config.publicUrl = v));
  fromEnv('ANTHROPIC_API_KEY', 'anthropic.apiKey', (v) => (config.anthropic.apiKey = v));
  fromEnv('ANTHROPIC_BASE_URL', 'anthropic.baseUrl', (v) => (config.anthropic.baseUrl = v));
  fromEnv('ERRAND_MODEL', 'anthropic.model', (v) => (config.anthropic.model = v));

  // Re-validate so environment values get the same checks as file values.
  const final = ConfigSchema.safeParse(config, PARSE_ONCE);
  if (!final.success) throw overrideError(final.error.issues[0], variables);
  return final.data;
}

/**
 * Change config.json with a function (used by `errand allow`, `errand connectors add`, `errand
 * expose` …): read, changed and written under the config lock (config-lock.ts), so two changes at
 * once, from the CLI or the daemon, never write over each other. Durable, mode 0600.
 */
export function updateConfigFile(home: string, change: (raw: Record<string, unknown>) => void): Config {
  const file = homePaths(home).config;
  try {
    // Before the first `errand start` the home does not exist yet: make it as start does (owner only).
    // First, as the lock lives beside config.json.
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    return withConfigLock(file, () => {
      const raw = readConfigFile(file);
      change(raw);
      const parsed = ConfigSchema.safeParse(raw, PARSE_ONCE);
      if (!parsed.success) throw new ConfigError(describeIssue(parsed.error.issues[0], file));
      writeConfigFile(file, raw);
      return parsed.data;
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') throw new ConfigDiskFullError(file, code);
    throw err;
  }
}

/**
 * Replace config.json's settings durably (mode 0600). A config.json that is a symbolic link (a
 * dotfile manager's) stays one: the file it points to is replaced, in its own folder. Callers hold
 * the config lock (withConfigLock).
 */
export function writeConfigFile(file: string, raw: Record<string, unknown>): void {
  writeFileDurablySync(linkTarget(file), `${JSON.stringify(raw, null, 2)}\n`, 0o600);
}

/** Symbolic links followed at most (as the kernel's ELOOP limit). */
const MAX_LINKS = 40;

/** The file `file` names once its symbolic links are followed; it need not exist (a link to a file not made yet). */
function linkTarget(file: string): string {
  let at = file;
  for (let hops = 0; hops <= MAX_LINKS; hops++) {
    let link: string;
    try {
      link = fs.readlinkSync(at);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EINVAL' || code === 'ENOENT' || code === 'UNKNOWN') return at; // not a link: this is the file
      throw err;
    }
    // Relative to the folder the link is really in (its path may pass through linked folders).
    at = path.resolve(fs.realpathSync(path.dirname(at)), link);
  }
  throw new ConfigError(
    `${file} is a symbolic link that leads through more than ${MAX_LINKS} links (a loop?); point it at a file, or replace it with one.`,
  );
}
