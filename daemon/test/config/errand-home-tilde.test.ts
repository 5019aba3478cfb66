// ERRAND_HOME='~/eh' (quoted, or from a unit file: no shell expands it) means the home folder's eh.
// Before, it named a folder called `~` in the current folder, and `errand install` wrote that into
// the service file. Other relative paths stay relative to the current folder.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { defaultHome } from '../../src/config/paths.js';
import { type CliResult, ERRAND_BIN } from '../helpers/cli.js';
import { tempHome } from '../helpers/daemon.js';

it('a leading ~ is the home folder; other paths are as before', () => {
  expect(defaultHome({ ERRAND_HOME: '~/eh' }, 'linux')).toBe(path.join(os.homedir(), 'eh'));
  expect(defaultHome({ ERRAND_HOME: '~' }, 'linux')).toBe(os.homedir());
  expect(defaultHome({ ERRAND_HOME: '~\\eh' }, 'win32')).toBe(path.join(os.homedir(), 'eh'));
  expect(defaultHome({ ERRAND_HOME: '/srv/eh' }, 'linux')).toBe('/srv/eh');
  expect(defaultHome({ ERRAND_HOME: 'eh' }, 'linux')).toBe(path.resolve('eh'));
  // Only a ~ that starts the path and ends its first part.
  expect(defaultHome({ ERRAND_HOME: '~eh' }, 'linux')).toBe(path.resolve('~eh'));
  expect(defaultHome({ ERRAND_HOME: 'eh/~/x' }, 'linux')).toBe(path.resolve('eh/~/x'));
});

function errand(args: string[], env: Record<string, string>, cwd: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [ERRAND_BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ANTHROPIC_API_KEY: '', ...env },
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

it("`errand allow` and `errand install --dry-run` with ERRAND_HOME='~/eh' use $HOME/eh, not ./~", async () => {
  const top = tempHome('errand-home-tilde-');
  const userHome = path.join(top, 'user');
  const cwd = path.join(top, 'cwd');
  const folder = path.join(top, 'project');
  for (const dir of [userHome, cwd, folder]) fs.mkdirSync(dir);
  const env = { HOME: userHome, ERRAND_HOME: '~/eh', XDG_RUNTIME_DIR: path.join(top, 'xdg') };

  const allow = await errand(['allow', folder], env, cwd);
  expect(allow.stderr).toBe('');
  expect(allow.code).toBe(0);
  expect(JSON.parse(fs.readFileSync(path.join(userHome, 'eh', 'config.json'), 'utf8')).roots).toEqual([folder]);
  expect(fs.readdirSync(cwd)).toEqual([]);

  if (process.platform !== 'linux') return; // the systemd unit below
  const install = await errand(['install', '--dry-run'], env, cwd);
  expect(install.code).toBe(0);
  expect(install.stdout).toContain(`Environment="ERRAND_HOME=${path.join(userHome, 'eh')}"`);
  expect(fs.readdirSync(cwd)).toEqual([]);
});
