// `errand install` / `errand uninstall` write and remove the right files under a temporary HOME
// and XDG_CONFIG_HOME, with a runner that records the service-manager commands.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIO, ParsedCommandArgs } from '../../src/cli/command.js';
import { makeInstallCommand } from '../../src/cli/commands/install.js';
import { makeUninstallCommand } from '../../src/cli/commands/uninstall.js';
import { projectDir, serviceState } from '../../src/service/index.js';
import { recordingRunner } from '../../src/service/runner.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-install-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function io(env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIO = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env,
    interactive: false,
    confirm: async () => false,
  };
  return { io: value, out, err, text: () => out.join('\n'), errText: () => err.join('\n') };
}

function args(home: string, values: ParsedCommandArgs['values'] = {}): ParsedCommandArgs {
  return { home, values, positionals: [] };
}

function sandbox(name: string) {
  const userHome = path.join(tmp, name, 'user');
  const xdg = path.join(tmp, name, 'xdg-config');
  const home = path.join(tmp, name, 'errand-home');
  fs.mkdirSync(userHome, { recursive: true });
  return {
    userHome,
    xdg,
    home,
    env: { HOME: userHome, XDG_CONFIG_HOME: xdg, PATH: '/usr/bin:/bin', USER: 'nobody-errand-test' },
  };
}

describe('errand install / uninstall on Linux (systemd)', () => {
  it('writes the unit under XDG_CONFIG_HOME, reloads, enables and starts it; uninstall removes it', async () => {
    const s = sandbox('linux');
    const runner = recordingRunner();
    const install = makeInstallCommand({ run: runner.run, platform: 'linux' });
    const t = io(s.env);
    expect(await install.run(args(s.home), t.io)).toBe(0);

    const unitPath = path.join(s.xdg, 'systemd', 'user', 'errand.service');
    const unit = fs.readFileSync(unitPath, 'utf8');
    expect(unit).toContain(`ExecStart="${process.execPath}" "`);
    expect(unit).toContain(`Environment="ERRAND_HOME=${s.home}"`);
    expect(fs.statSync(unitPath).mode & 0o777).toBe(0o644);
    expect(fs.statSync(path.join(s.home, 'logs')).isDirectory()).toBe(true);
    expect(runner.calls).toEqual([
      ['systemctl', '--user', 'daemon-reload'],
      ['systemctl', '--user', 'enable', 'errand.service'],
      ['systemctl', '--user', 'restart', 'errand.service'],
    ]);
    expect(t.text()).toContain('loginctl enable-linger $USER');
    expect(await serviceState(s.home, { env: s.env, platform: 'linux' })).toEqual({
      installed: true,
      kind: 'systemd',
      unitPath,
      home: s.home,
      servesThisHome: true,
      program: [process.execPath, path.join(projectDir(), 'daemon', 'bin', 'errand.js')],
    });

    const runner2 = recordingRunner();
    const t2 = io(s.env);
    expect(await makeUninstallCommand({ run: runner2.run, platform: 'linux' }).run(args(s.home), t2.io)).toBe(0);
    expect(fs.existsSync(unitPath)).toBe(false);
    expect(runner2.calls).toEqual([
      ['systemctl', '--user', 'disable', '--now', 'errand.service'],
      ['systemctl', '--user', 'daemon-reload'],
    ]);
    expect(t2.text()).toContain(`Removed ${unitPath}`);
    expect(await serviceState(s.home, { env: s.env, platform: 'linux' })).toEqual({
      installed: false,
      kind: 'systemd',
      unitPath,
    });
  });

  it('re-installing for another home folder says so and points the unit there', async () => {
    const s = sandbox('rehome');
    const runner = recordingRunner();
    const install = makeInstallCommand({ run: runner.run, platform: 'linux' });
    expect(await install.run(args(s.home), io(s.env).io)).toBe(0);
    const other = path.join(tmp, 'rehome', 'other-home');
    const t = io(s.env);
    expect(await install.run(args(other), t.io)).toBe(0);
    expect(t.text()).toContain(`ran the home folder ${s.home}; it now runs ${other}`);
    expect(await serviceState(other, { env: s.env, platform: 'linux' })).toMatchObject({
      installed: true,
      home: other,
      servesThisHome: true,
    });
  });

  it('carries settings that came from the environment (ERRAND_PORT …) into the unit and says so', async () => {
    const s = sandbox('carry');
    const runner = recordingRunner();
    const env = { ...s.env, ERRAND_PORT: '8123', ERRAND_PUBLIC_URL: 'https://desk.example.ts.net' };
    const t = io(env);
    expect(await makeInstallCommand({ run: runner.run, platform: 'linux' }).run(args(s.home), t.io)).toBe(0);
    const unit = fs.readFileSync(path.join(s.xdg, 'systemd', 'user', 'errand.service'), 'utf8');
    expect(unit).toContain('Environment="ERRAND_PORT=8123"');
    expect(unit).toContain('Environment="ERRAND_PUBLIC_URL=https://desk.example.ts.net"');
    expect(unit).not.toContain('ERRAND_BIND');
    expect(t.text()).toContain('keeps ERRAND_PORT=8123, ERRAND_PUBLIC_URL=https://desk.example.ts.net');
    // Without them in the environment, the unit carries none.
    const plain = sandbox('carry-none');
    expect(
      await makeInstallCommand({ run: runner.run, platform: 'linux' }).run(args(plain.home), io(plain.env).io),
    ).toBe(0);
    expect(fs.readFileSync(path.join(plain.xdg, 'systemd', 'user', 'errand.service'), 'utf8')).not.toContain(
      'ERRAND_PORT',
    );
  });

  it('uninstall with nothing installed says so, and not that something was removed', async () => {
    const s = sandbox('nothing');
    const t = io(s.env);
    expect(await makeUninstallCommand({ run: recordingRunner().run, platform: 'linux' }).run(args(s.home), t.io)).toBe(
      0,
    );
    expect(t.text()).toContain('No login service was installed');
    expect(t.text()).not.toMatch(/removed/i);
  });

  it('falls back to ~/.config without XDG_CONFIG_HOME', async () => {
    const s = sandbox('linux-noxdg');
    const env = { ...s.env, XDG_CONFIG_HOME: undefined };
    const runner = recordingRunner();
    expect(await makeInstallCommand({ run: runner.run, platform: 'linux' }).run(args(s.home), io(env).io)).toBe(0);
    expect(fs.existsSync(path.join(s.userHome, '.config', 'systemd', 'user', 'errand.service'))).toBe(true);
  });

  it('--dry-run prints the unit and the commands and changes nothing', async () => {
    const s = sandbox('dry');
    const runner = recordingRunner();
    const t = io(s.env);
    expect(
      await makeInstallCommand({ run: runner.run, platform: 'linux' }).run(args(s.home, { 'dry-run': true }), t.io),
    ).toBe(0);
    expect(runner.calls).toEqual([]);
    expect(fs.existsSync(s.xdg)).toBe(false);
    expect(fs.existsSync(s.home)).toBe(false);
    expect(t.text()).toContain('systemctl --user enable errand.service');
    expect(t.text()).toContain('RestartPreventExitStatus=78 65');
    expect(t.text()).not.toContain('now starts when you log in');
  });

  it('says what to do when the user manager is unreachable', async () => {
    const s = sandbox('nobus');
    const runner = recordingRunner((cmd, a) =>
      a.includes('daemon-reload') ? { code: 1, stderr: 'Failed to connect to bus: No medium found' } : undefined,
    );
    const t = io(s.env);
    expect(await makeInstallCommand({ run: runner.run, platform: 'linux' }).run(args(s.home), t.io)).toBe(1);
    expect(t.errText()).toContain('Failed to connect to bus');
    expect(t.errText()).toContain('loginctl enable-linger');
    expect(runner.calls).toHaveLength(1); // stopped at the failing step
    expect(fs.existsSync(path.join(s.xdg, 'systemd', 'user', 'errand.service'))).toBe(false); // rolled back
  });
});

describe('errand install / uninstall on macOS (launchd)', () => {
  it('writes the LaunchAgent and bootstraps it; uninstall boots it out and removes it', async () => {
    const s = sandbox('mac');
    const runner = recordingRunner((cmd, a) =>
      a[0] === 'bootout' ? { code: 3, stderr: 'Boot-out failed: 3: No such process' } : undefined,
    );
    const t = io(s.env);
    expect(await makeInstallCommand({ run: runner.run, platform: 'darwin', uid: 501 }).run(args(s.home), t.io)).toBe(0);
    const plist = path.join(s.userHome, 'Library', 'LaunchAgents', 'dev.errand.daemon.plist');
    expect(fs.readFileSync(plist, 'utf8')).toContain('<string>dev.errand.daemon</string>');
    expect(runner.calls).toEqual([
      ['launchctl', 'bootout', 'gui/501/dev.errand.daemon'],
      ['launchctl', 'enable', 'gui/501/dev.errand.daemon'],
      ['launchctl', 'bootstrap', 'gui/501', plist],
    ]);
    expect(await serviceState(s.home, { env: s.env, platform: 'darwin' })).toMatchObject({
      installed: true,
      kind: 'launchd',
      servesThisHome: true,
      program: [process.execPath, path.join(projectDir(), 'daemon', 'bin', 'errand.js')],
    });

    const runner2 = recordingRunner();
    expect(
      await makeUninstallCommand({ run: runner2.run, platform: 'darwin', uid: 501 }).run(args(s.home), io(s.env).io),
    ).toBe(0);
    expect(runner2.calls).toEqual([['launchctl', 'bootout', 'gui/501/dev.errand.daemon']]);
    expect(fs.existsSync(plist)).toBe(false);
  });
});

describe('other platforms', () => {
  it('says a login service is unsupported and how to run the daemon by hand', async () => {
    const s = sandbox('win');
    const runner = recordingRunner();
    const t = io(s.env);
    expect(await makeInstallCommand({ run: runner.run, platform: 'win32' }).run(args(s.home), t.io)).toBe(1);
    expect(t.errText()).toMatch(/not supported/);
    expect(t.errText()).toContain('errand start');
    expect(runner.calls).toEqual([]);
  });
});
