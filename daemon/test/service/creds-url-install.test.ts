// `errand install` copies settings from the installing shell into the service file, which others can
// read (mode 644). A URL with a user name and password in it (a model proxy's login in
// ANTHROPIC_BASE_URL) is left out, and the install (and its dry run) says to keep it in
// config.json, which only the user can read.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { makeInstallCommand } from '../../src/cli/commands/install.js';
import { planInstall } from '../../src/service/index.js';
import { recordingRunner } from '../../src/service/runner.js';
import { tempHome } from '../helpers/daemon.js';

const PASSWORD = 'S3cretProxyPass';
const WITH_LOGIN = `http://proxyuser:${PASSWORD}@127.0.0.1:47999`;

function sandbox(extra: NodeJS.ProcessEnv) {
  const root = tempHome('errand-creds-install-');
  fs.mkdirSync(path.join(root, 'user'));
  return {
    home: path.join(root, 'errand-home'),
    env: {
      HOME: path.join(root, 'user'),
      XDG_CONFIG_HOME: path.join(root, 'xdg-config'),
      PATH: '/usr/bin:/bin',
      USER: 'nobody-errand-test',
      ...extra,
    } as NodeJS.ProcessEnv,
  };
}

async function install(home: string, env: NodeJS.ProcessEnv, values: Record<string, boolean> = {}) {
  const printed: string[] = [];
  const io: CliIO = {
    out: (t) => printed.push(t),
    err: (t) => printed.push(t),
    env,
    interactive: false,
    confirm: async () => false,
  };
  const code = await makeInstallCommand({ run: recordingRunner().run, platform: 'linux' }).run(
    { home, values, positionals: [] },
    io,
  );
  return { code, text: printed.join('\n') };
}

const unitOf = (env: NodeJS.ProcessEnv) =>
  fs.readFileSync(path.join(env.XDG_CONFIG_HOME!, 'systemd', 'user', 'errand.service'), 'utf8');

describe('errand install with a URL that holds a password', () => {
  it('leaves ANTHROPIC_BASE_URL out of the unit and says to put it in config.json', async () => {
    const s = sandbox({ ANTHROPIC_BASE_URL: WITH_LOGIN, ERRAND_PORT: '8123' });
    const { code, text } = await install(s.home, s.env);
    expect(code).toBe(0);
    const unit = unitOf(s.env);
    expect(unit).not.toContain(PASSWORD);
    expect(unit).not.toContain('ANTHROPIC_BASE_URL');
    expect(unit).toContain('Environment="ERRAND_PORT=8123"'); // the other settings still go
    expect(text).not.toContain(PASSWORD);
    expect(text).toContain('ANTHROPIC_BASE_URL (http://127.0.0.1:47999) holds a user name and password');
    expect(text).toContain(`Put it in ${path.join(s.home, 'config.json')} as "anthropic": {"baseUrl": "…"}`);
  });

  it('the dry run shows the same advice, and the launchd plist leaves it out too', async () => {
    const s = sandbox({ ANTHROPIC_BASE_URL: WITH_LOGIN });
    const { code, text } = await install(s.home, s.env, { 'dry-run': true });
    expect(code).toBe(0);
    expect(text).toContain('Dry run');
    expect(text).not.toContain(PASSWORD);
    expect(text).toContain('is not copied into the service file');
    const json = await install(s.home, s.env, { 'dry-run': true, json: true });
    expect(json.text).not.toContain(PASSWORD);

    const plist = planInstall({ home: s.home, env: s.env, platform: 'darwin', uid: 501 });
    const write = plist.steps.find((st) => st.kind === 'write');
    expect(write && 'content' in write ? write.content : '').not.toContain(PASSWORD);
    expect(plist.notes.join('\n')).toContain('is not copied into the service file');
  });

  it('no advice when config.json already holds that URL (the service reads it there)', async () => {
    const s = sandbox({ ANTHROPIC_BASE_URL: WITH_LOGIN });
    fs.mkdirSync(s.home, { mode: 0o700 });
    fs.writeFileSync(path.join(s.home, 'config.json'), JSON.stringify({ anthropic: { baseUrl: WITH_LOGIN } }), {
      mode: 0o600,
    });
    const { code, text } = await install(s.home, s.env);
    expect(code).toBe(0);
    expect(unitOf(s.env)).not.toContain(PASSWORD);
    expect(text).not.toContain('ANTHROPIC_BASE_URL');
  });
});
