// `errand doctor` with an invalid environment variable: the fix names the variable, where the value
// comes from. Before, the detail named it but the fix said to correct config.json.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { expect, it } from 'vitest';
import { homePaths } from '../../src/config/paths.js';
import { type CliResult, ERRAND_BIN } from '../helpers/cli.js';
import { tempHome } from '../helpers/daemon.js';

function doctor(env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [ERRAND_BIN, 'doctor', '--json'], {
      // The model endpoint doctor asks is a closed local port: no request leaves this machine.
      env: { PATH: process.env.PATH ?? '', ANTHROPIC_API_KEY: '', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

async function configCheck(env: Record<string, string>) {
  const result = await doctor(env);
  const checks = JSON.parse(result.stdout).checks as { id: string; status: string; detail: string; fix?: string }[];
  return checks.find((c) => c.id === 'config')!;
}

it.each([
  ['ERRAND_BIND', '0.0.0.0'],
  ['ERRAND_PUBLIC_URL', 'http://x'],
  ['ERRAND_PORT', 'eighty'],
])('%s=%s: the fix says to correct or unset the variable', async (variable, value) => {
  const home = tempHome('errand-doctor-variable-');
  const check = await configCheck({ ERRAND_HOME: home, [variable]: value });
  expect(check.status).toBe('fail');
  expect(check.detail).toContain(variable);
  expect(check.fix).toBe(`Correct or unset ${variable}; the daemon will not start until it is valid.`);
});

it('an invalid config.json: the fix still names the file', async () => {
  const home = tempHome('errand-doctor-variable-');
  fs.writeFileSync(homePaths(home).config, '{"port": "x"}', { mode: 0o600 });
  const check = await configCheck({ ERRAND_HOME: home });
  expect(check.status).toBe('fail');
  expect(check.fix).toBe(`Correct ${homePaths(home).config}; the daemon will not start until it is valid.`);
});
