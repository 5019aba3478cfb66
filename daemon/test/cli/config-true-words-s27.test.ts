// Smaller words that were false or unhelpful, each now true:
// - config.json others can read (it may hold the API key) is made 0600 at start, with a warning, as
//   vapid.json is; before, it stayed 0644.
// - an invalid value from the environment names the variable the user set (ERRAND_PUBLIC_URL …),
//   not only the key; before, only "publicUrl".
// - config.json holding `[]` or `null` is valid JSON: the message says the top level must be an
//   object; before, "is not valid JSON".
// - doctor: a model server on this computer that accepts and never answers is said not to answer;
//   before, "this computer may be offline → check the internet connection".
// - `errand install --dry-run` shows that the service would not see an API key set only in the shell;
//   before, only a real install said so.
// - anthropic.baseUrl that is not http(s) and an empty hostName are refused, naming the key; before,
//   accepted without a word.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { makeDoctorCommand } from '../../src/cli/commands/doctor.js';
import { makeInstallCommand } from '../../src/cli/commands/install.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import type { Check } from '../../src/doctor/index.js';
import { recordingRunner } from '../../src/service/runner.js';
import { startTestDaemon, type TestDaemon, tempHome } from '../helpers/daemon.js';

const homes: string[] = [];
let td: TestDaemon | undefined;
afterEach(async () => {
  await td?.stop();
  td = undefined;
  for (const h of homes.splice(0)) fs.rmSync(h, { recursive: true, force: true });
});

function home(configText?: string, mode = 0o600): string {
  const dir = tempHome('errand-words-');
  homes.push(dir);
  if (configText !== undefined) {
    fs.writeFileSync(path.join(dir, 'config.json'), configText);
    fs.chmodSync(path.join(dir, 'config.json'), mode);
  }
  return dir;
}

function loadError(dir: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfig({ home: dir, env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('the configuration was accepted');
}

function capture(env: NodeJS.ProcessEnv): { io: CliIO; text: () => string } {
  const lines: string[] = [];
  return {
    io: { out: (t) => lines.push(t), err: (t) => lines.push(t), env, interactive: false, confirm: async () => false },
    text: () => lines.join('\n'),
  };
}

describe('config.json readable by others', () => {
  it('is made 0600 at start, and the log says so', async () => {
    const dir = home(JSON.stringify({ port: 0, anthropic: { apiKey: 'sk-test-words' } }), 0o644);
    td = await startTestDaemon({ home: dir });
    expect(fs.statSync(path.join(dir, 'config.json')).mode & 0o777).toBe(0o600);
    const log = fs.readFileSync(path.join(dir, 'logs', 'daemon.log'), 'utf8');
    expect(log).toContain('could be read by other users');
    expect(log).not.toContain('sk-test-words');
  });
});

describe('an invalid value from the environment', () => {
  it('names the variable the user set, and the key it sets', () => {
    const publicUrl = loadError(home(), { ERRAND_PUBLIC_URL: 'javascript:x' });
    expect(publicUrl).toContain('ERRAND_PUBLIC_URL');
    expect(publicUrl).toContain('"publicUrl"');
    expect(publicUrl).toContain('Correct or unset ERRAND_PUBLIC_URL');
    const baseUrl = loadError(home(), { ANTHROPIC_BASE_URL: 'notaurl' });
    expect(baseUrl).toContain('ANTHROPIC_BASE_URL');
    expect(baseUrl).toContain('"anthropic.baseUrl"');
    expect(loadError(home(), { ERRAND_BIND: 'nohost.invalid' })).toContain('ERRAND_BIND');
  });
});

describe('config.json whose top level is not an object', () => {
  it('is not called invalid JSON: the message says the top level must be an object', () => {
    for (const text of ['[]', 'null', '7']) {
      const message = loadError(home(text));
      expect(message, text).not.toContain('not valid JSON');
      expect(message, text).toContain('top level must be an object');
    }
    expect(loadError(home('{"port": 7345'))).toContain('is not valid JSON');
  });
});

describe('anthropic.baseUrl and hostName', () => {
  it('refuses a baseUrl that is not http(s), naming the key and what it must be', () => {
    const message = loadError(home(JSON.stringify({ anthropic: { baseUrl: 'file:///etc/passwd' } })));
    expect(message).toContain('"anthropic.baseUrl"');
    expect(message).toContain('must be an http:// or https:// URL');
    expect(loadError(home(), { ANTHROPIC_BASE_URL: 'ftp://models.example' })).toContain('ANTHROPIC_BASE_URL');
  });

  it('refuses an empty hostName, saying to give a name or remove it', () => {
    for (const hostName of ['', '  ']) {
      const message = loadError(home(JSON.stringify({ hostName })));
      expect(message).toContain('"hostName"');
      expect(message).toContain('remove it');
    }
  });
});

describe('doctor, a model server on this computer that never answers', () => {
  let silent: net.Server;
  let port: number;
  const sockets: net.Socket[] = [];
  beforeAll(async () => {
    // Accepts connections, reads, never answers.
    silent = net.createServer((s) => {
      sockets.push(s);
      s.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('says the server at that address does not answer, not that this computer may be offline', async () => {
    const dir = home(JSON.stringify({ anthropic: { baseUrl: `http://127.0.0.1:${port}` } }));
    const env = { PATH: '/usr/bin:/bin', HOME: dir, XDG_CONFIG_HOME: path.join(dir, 'xdg') };
    const out = capture(env);
    const cmd = makeDoctorCommand({ run: recordingRunner().run, platform: 'linux', timeoutMs: 500 });
    await cmd.run({ home: dir, values: { json: true }, positionals: [] }, out.io);
    const model = (JSON.parse(out.text()) as { checks: Check[] }).checks.find((c) => c.id === 'model')!;
    expect(model.detail).toBe(`the server at http://127.0.0.1:${port} does not answer (TimeoutError)`);
    expect(model.detail).not.toContain('offline');
    expect(model.fix).toContain('model server');
    expect(model.fix).toContain('anthropic.baseUrl');
    expect(model.fix).not.toContain('internet connection');
  });
});

describe('errand install --dry-run', () => {
  it('says that the service would not see an API key set only in this shell', async () => {
    const dir = home();
    const userHome = path.join(dir, 'user');
    const env = {
      PATH: '/usr/bin:/bin',
      HOME: userHome,
      XDG_CONFIG_HOME: path.join(userHome, '.config'),
      ANTHROPIC_API_KEY: 'sk-test-shell-only',
    };
    const errandHome = path.join(dir, 'errand');
    const out = capture(env);
    const runner = recordingRunner();
    const code = await makeInstallCommand({ run: runner.run, platform: 'linux' }).run(
      { home: errandHome, values: { 'dry-run': true }, positionals: [] },
      out.io,
    );
    expect(code).toBe(0);
    expect(runner.calls).toEqual([]);
    expect(out.text()).toContain("set only in this shell's ANTHROPIC_API_KEY, which the login service does not see");
    expect(out.text()).not.toContain('sk-test-shell-only');
    expect(out.text()).not.toContain('now starts when you log in');
  });
});
