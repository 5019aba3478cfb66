// The shell sandbox: whether shell commands run contained on this system (as the running daemon
// reports it, or as the tools it needs are found), and how to get one.
import fs from 'node:fs';
import type { Config } from '../config/schema.js';
import { type Runner, which } from '../service/runner.js';
import type { Check } from './check.js';
import type { DaemonStatus } from './daemon-check.js';

export async function checkSandbox(
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
