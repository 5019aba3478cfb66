// Load config.json, apply environment overrides, validate. An invalid value names its key and what is allowed.
import fs from 'node:fs';
import type { z } from 'zod';
import { writeFileDurablySync } from '../util/durable-file.js';
import { PARSE_ONCE } from '../util/parse-once.js';
import { homePaths } from './paths.js';
import { MAX_PORT, portFromDigits } from './port.js';
import { type Config, ConfigSchema } from './schema.js';

export class ConfigError extends Error {
  readonly exitCode = 78; // EX_CONFIG: the service manager must not restart on this
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
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new Error('the top level must be an object');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON (${(err as Error).message}). Fix or remove the file.`);
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
    );
  return port;
}

export function describeIssue(issue: z.core.$ZodIssue, source: string): string {
  const key = issue.path.length ? issue.path.join('.') : '(top level)';
  return `Invalid configuration in ${source}: "${key}" ${issue.message.replace(/^Invalid input: /, '')}`;
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
  if (env.ERRAND_BIND) config.bind = env.ERRAND_BIND;
  if (opts.overrides?.bind) config.bind = opts.overrides.bind;
  if (opts.overrides?.lan) config.lan = true;
  if (env.ERRAND_PUBLIC_URL) config.publicUrl = env.ERRAND_PUBLIC_URL;
  if (env.ANTHROPIC_API_KEY) config.anthropic.apiKey = env.ANTHROPIC_API_KEY;
  if (env.ANTHROPIC_BASE_URL) config.anthropic.baseUrl = env.ANTHROPIC_BASE_URL;
  if (env.ERRAND_MODEL) config.anthropic.model = env.ERRAND_MODEL;

  // Re-validate so environment values get the same checks as file values.
  const final = ConfigSchema.safeParse(config, PARSE_ONCE);
  if (!final.success) throw new ConfigError(describeIssue(final.error.issues[0], 'the environment or command line'));
  return final.data;
}

/** Change config.json with a function (used by `errand allow`, `errand connectors add` …). Durable, mode 0600. */
export function updateConfigFile(home: string, change: (raw: Record<string, unknown>) => void): Config {
  const file = homePaths(home).config;
  const raw = readConfigFile(file);
  change(raw);
  const parsed = ConfigSchema.safeParse(raw, PARSE_ONCE);
  if (!parsed.success) throw new ConfigError(describeIssue(parsed.error.issues[0], file));
  try {
    // Before the first `errand start` the home does not exist yet: make it as start does (owner only).
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    writeFileDurablySync(file, JSON.stringify(raw, null, 2) + '\n', 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') throw new ConfigDiskFullError(file, code);
    throw err;
  }
  return parsed.data;
}
