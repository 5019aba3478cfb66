// `errand uninstall` where systemctl cannot reach the user's systemd (no user bus: over SSH, in a
// container, under sudo) must not say the service is stopped: it says systemd did not answer and
// what to run where it does. Before: "made sure it is stopped" although `disable --now` had failed.
// The real systemctl runs here, with no bus in its environment.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { makeUninstallCommand } from '../../src/cli/commands/uninstall.js';
import { recordingRunner, which } from '../../src/service/runner.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function sandbox() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-uninstall-nobus-'));
  dirs.push(dir);
  const user = path.join(dir, 'user');
  // No XDG_RUNTIME_DIR, no DBUS_SESSION_BUS_ADDRESS: systemctl --user finds no bus.
  const env = { PATH: process.env.PATH, HOME: user, XDG_CONFIG_HOME: path.join(user, '.config') };
  const unit = path.join(user, '.config', 'systemd', 'user', 'errand.service');
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env,
    interactive: false,
    confirm: async () => false,
  };
  return { home: path.join(dir, 'home'), unit, io, out: () => out.join('\n'), err: () => err.join('\n') };
}

const hasSystemctl = which('systemctl') !== undefined;

it.skipIf(!hasSystemctl)(
  'nothing installed, systemd unreachable: says so instead of "made sure it is stopped"',
  async () => {
    const s = sandbox();
    const code = await makeUninstallCommand({ platform: 'linux' }).run(
      { home: s.home, values: {}, positionals: [] },
      s.io,
    );
    expect(code).toBe(0);
    expect(s.out()).toContain('No login service was installed');
    expect(s.out()).not.toContain('made sure it is stopped');
    expect(s.err()).toContain('Could not reach systemd to stop the login service');
    expect(s.err()).toContain('run `systemctl --user disable --now errand.service` to make sure it is stopped');
  },
);

it.skipIf(!hasSystemctl)(
  'installed, systemd unreachable: the file is removed, exit 1, and what to run to stop it',
  async () => {
    const s = sandbox();
    fs.mkdirSync(path.dirname(s.unit), { recursive: true });
    fs.writeFileSync(s.unit, '[Unit]\nDescription=Errand\n');
    const code = await makeUninstallCommand({ platform: 'linux' }).run(
      { home: s.home, values: {}, positionals: [] },
      s.io,
    );
    expect(code).toBe(1);
    expect(fs.existsSync(s.unit)).toBe(false);
    expect(s.out()).toContain(`Removed ${s.unit}`);
    expect(s.err()).toContain('Could not reach systemd');
  },
);

it('systemd answers that there is no such unit: it is stopped, as before', async () => {
  const s = sandbox();
  const runner = recordingRunner((_cmd, args) =>
    args.includes('disable')
      ? { code: 1, stderr: 'Failed to disable unit: Unit file errand.service does not exist.' }
      : undefined,
  );
  const code = await makeUninstallCommand({ platform: 'linux', run: runner.run }).run(
    { home: s.home, values: {}, positionals: [] },
    s.io,
  );
  expect(code).toBe(0);
  expect(s.out()).toContain('did not exist); made sure it is stopped');
  expect(s.err()).toBe('');
});
