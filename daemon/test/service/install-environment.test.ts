// What `errand install` hands the service from the installing shell: the home folder always (the
// service manager does not see XDG_STATE_HOME), ANTHROPIC_BASE_URL like the other settings, never
// the API key, and a note when the key lives only in the environment.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { makeInstallCommand } from '../../src/cli/commands/install.js';
import { defaultHome } from '../../src/config/paths.js';
import { planInstall } from '../../src/service/index.js';
import { recordingRunner } from '../../src/service/runner.js';
import { tempHome } from '../helpers/daemon.js';

function sandbox() {
  const root = tempHome('errand-install-env-');
  const userHome = path.join(root, 'user');
  fs.mkdirSync(userHome);
  return {
    root,
    userHome,
    env: {
      HOME: userHome,
      XDG_CONFIG_HOME: path.join(root, 'xdg-config'),
      XDG_STATE_HOME: path.join(root, 'xdg-state'),
      PATH: '/usr/bin:/bin',
      USER: 'nobody-errand-test',
    } as NodeJS.ProcessEnv,
  };
}

async function install(home: string, env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const io: CliIO = {
    out: (t) => out.push(t),
    err: (t) => out.push(t),
    env,
    interactive: false,
    confirm: async () => false,
  };
  const code = await makeInstallCommand({ run: recordingRunner().run, platform: 'linux' }).run(
    { home, values: {}, positionals: [] },
    io,
  );
  const unit = fs.readFileSync(path.join(env.XDG_CONFIG_HOME!, 'systemd', 'user', 'errand.service'), 'utf8');
  return { code, text: out.join('\n'), unit };
}

describe('errand install: the environment the service gets', () => {
  it('writes ERRAND_HOME even for the default home under XDG_STATE_HOME (unit and plist)', async () => {
    const s = sandbox();
    const home = defaultHome(s.env, 'linux');
    expect(home).toBe(path.join(s.root, 'xdg-state', 'errand'));
    const { code, unit } = await install(home, s.env);
    expect(code).toBe(0);
    expect(unit).toContain(`Environment="ERRAND_HOME=${home}"`);
    const plan = planInstall({ home, env: s.env, platform: 'darwin', uid: 501 });
    const plist = plan.steps.find((st) => st.kind === 'write');
    expect(plist && 'content' in plist ? plist.content : '').toContain(
      `<key>ERRAND_HOME</key>\n    <string>${home}</string>`,
    );
  });

  it('carries ANTHROPIC_BASE_URL, never the API key, and says the key must go into config.json', async () => {
    const s = sandbox();
    const home = path.join(s.root, 'errand-home');
    const { code, unit, text } = await install(home, {
      ...s.env,
      ANTHROPIC_BASE_URL: 'https://llm-proxy.internal',
      ANTHROPIC_API_KEY: 'sk-ant-secret-value',
    });
    expect(code).toBe(0);
    expect(unit).toContain('Environment="ANTHROPIC_BASE_URL=https://llm-proxy.internal"');
    expect(unit).not.toContain('sk-ant-secret-value');
    expect(unit).not.toContain('ANTHROPIC_API_KEY');
    expect(text).toContain("set only in this shell's ANTHROPIC_API_KEY");
    expect(text).toContain(path.join(home, 'config.json'));
    expect(text).not.toContain('sk-ant-secret-value');
  });

  it('no key note when config.json holds the key', async () => {
    const s = sandbox();
    const home = path.join(s.root, 'errand-home');
    fs.mkdirSync(home, { mode: 0o700 });
    fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ anthropic: { apiKey: 'sk-ant-file' } }), {
      mode: 0o600,
    });
    const { text } = await install(home, { ...s.env, ANTHROPIC_API_KEY: 'sk-ant-env' });
    expect(text).not.toContain('ANTHROPIC_API_KEY');
  });
});
