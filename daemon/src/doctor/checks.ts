// `errand doctor`: look at everything Errand needs and say, in plain words, what is wrong and
// how to fix it. Each check is independent; none of them changes anything. This file runs them
// in their order and prints them; each area's checks live beside it (*-check.ts).
import fs from 'node:fs';
import { ConfigError, loadConfig, readConfigFile } from '../config/load.js';
import { homePaths } from '../config/paths.js';
import { type Config, ConfigSchema } from '../config/schema.js';
import { execRunner, type Runner } from '../service/runner.js';
import type { Check, CheckStatus } from './check.js';
import { checkConnectors } from './connectors-check.js';
import { checkDaemon, checkListen, checkService } from './daemon-check.js';
import { inspectHome } from './home-check.js';
import { checkNotedMemoryCommands } from './memory-commands-check.js';
import { checkApiKey, checkModelEndpoint } from './model-check.js';
import { checkOrigin, checkPushKeys, checkPushSubject } from './phone-check.js';
import { checkRoots } from './roots-check.js';
import { checkSandbox } from './sandbox-check.js';
import { checkDisk, checkJournal, checkStoreFiles } from './store-check.js';
import { checkThinking } from './thinking-check.js';

export type { Check, CheckStatus } from './check.js';

export interface DoctorOptions {
  home: string;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  run?: Runner;
  fetch?: typeof fetch;
  /** Network timeout for the model endpoint (default 4 s). */
  timeoutMs?: number;
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
      // A bad environment variable is fixed where it is set, not in config.json.
      fix: `Correct ${err.variable ? `or unset ${err.variable}` : paths.config}; the daemon will not start until it is valid.`,
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
    ...(await checkNotedMemoryCommands(paths.store)),
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
