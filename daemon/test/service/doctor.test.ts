// `errand doctor` reports what is wrong with its fix: a missing API key, a missing root, an
// unreachable or rejecting model endpoint, and reads a running daemon's status.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { makeDoctorCommand } from '../../src/cli/commands/doctor.js';
import type { ControlStatus } from '../../src/control/protocol.js';
import { ControlServer } from '../../src/control/server.js';
import type { Check } from '../../src/doctor/index.js';
import { projectDir } from '../../src/service/index.js';
import { recordingRunner } from '../../src/service/runner.js';
import { systemdUnit } from '../../src/service/units.js';
import { createLogger } from '../../src/util/log.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-doctor-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function setup(name: string, config: Record<string, unknown>) {
  const home = path.join(tmp, name);
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify(config));
  return home;
}

async function doctor(home: string, env: NodeJS.ProcessEnv, fetchImpl?: typeof fetch) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env,
    interactive: false,
    confirm: async () => false,
  };
  const cmd = makeDoctorCommand({ run: recordingRunner().run, platform: 'linux', fetch: fetchImpl, timeoutMs: 2000 });
  const code = await cmd.run({ home, values: { json: true }, positionals: [] }, io);
  const report = JSON.parse(out.join('\n')) as { ok: boolean; checks: Check[] };
  const human: string[] = [];
  await cmd.run({ home, values: {}, positionals: [] }, { ...io, out: (t) => human.push(t) });
  const byId = (id: string) => report.checks.find((c) => c.id === id)!;
  return { code, report, byId, human: human.join('\n') };
}

const offline: typeof fetch = async () => {
  throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } });
};
const env = (extra: NodeJS.ProcessEnv = {}) => ({
  PATH: '/usr/bin:/bin',
  HOME: path.join(tmp, 'user'),
  XDG_CONFIG_HOME: path.join(tmp, 'user', '.config'),
  ...extra,
});

describe('errand doctor', () => {
  it('reports a missing API key and a missing root, each with its fix, and exits 1', async () => {
    const missing = path.join(tmp, 'no-such-folder');
    const present = fs.mkdtempSync(path.join(tmp, 'root-'));
    const home = setup('h1', { roots: [present, missing] });
    const d = await doctor(home, env(), offline);
    expect(d.code).toBe(1);
    expect(d.report.ok).toBe(false);

    expect(d.byId('apiKey')).toMatchObject({ status: 'fail', detail: 'no Anthropic API key is configured' });
    expect(d.byId('apiKey').fix).toContain('"anthropic": {"apiKey"');
    expect(d.byId(`root:${missing}`)).toMatchObject({ status: 'fail', detail: 'does not exist' });
    expect(d.byId(`root:${missing}`).fix).toBe(
      `Create the folder ${missing}, or remove it from "roots" in config.json.`,
    );
    expect(d.byId(`root:${present}`).status).toBe('ok');

    // Offline is "unknown", not a failure; a stopped daemon and no service say what to run.
    expect(d.byId('model').status).toBe('unknown');
    expect(d.byId('daemon')).toMatchObject({ status: 'fail', detail: 'not running' });
    expect(d.byId('daemon').fix).toContain('errand start');
    expect(d.byId('service')).toMatchObject({ status: 'warn' });
    expect(d.byId('service').fix).toContain('errand install');
    expect(d.byId('origin').status).toBe('warn');
    expect(d.byId('push').status).toBe('warn');
    expect(d.byId('disk').status).toMatch(/ok|warn/);
    for (const c of d.report.checks) if (c.status !== 'ok') expect(c.fix, c.id).toBeTruthy();

    expect(d.human).toMatch(/FAIL {2}API key/);
    expect(d.human).toContain(`→ Create the folder ${missing}`);
  });

  it("checks the key against the model endpoint and reads a running daemon's status", async () => {
    let seenKey: string | undefined;
    let answer = 401;
    const server = http.createServer((req, res) => {
      seenKey = req.headers['x-api-key'] as string | undefined;
      res.writeHead(answer, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const home = setup('h2', {
      anthropic: { apiKey: 'sk-ant-test', baseUrl: base },
      publicUrl: 'https://errand.example.com',
      connectors: [{ name: 'mail', transport: 'http', url: 'https://mcp.example.com/' }],
    });
    fs.writeFileSync(path.join(home, 'vapid.json'), '{}');
    fs.mkdirSync(path.join(home, 'workspace'));

    const control = new ControlServer(path.join(home, 'control.sock'), createLogger({}));
    // A partial status: what doctor reads of it.
    control.register(
      'status',
      async () =>
        ({
          version: '0.1.0',
          startedAt: Date.now() - 5000,
          origins: ['http://127.0.0.1:7345', 'https://errand.example.com'],
          connectors: [{ name: 'mail', transport: 'http', status: 'failed', reason: 'HTTP 500', tools: 0 }],
          sandbox: { enabled: true },
        }) as unknown as ControlStatus,
    );
    await control.listen();
    try {
      const rejected = await doctor(home, env());
      expect(seenKey).toBe('sk-ant-test');
      expect(rejected.byId('model')).toMatchObject({ status: 'fail' });
      expect(rejected.byId('model').detail).toContain('rejected the API key');
      expect(rejected.byId('daemon')).toMatchObject({ status: 'ok', detail: 'running (version 0.1.0, up 5 s)' });
      expect(rejected.byId('origin')).toMatchObject({ status: 'ok' });
      expect(rejected.byId('push').status).toBe('ok');
      expect(rejected.byId('connectors')).toMatchObject({ status: 'warn' });
      expect(rejected.byId('connectors').detail).toContain('mail (HTTP 500)');

      answer = 200;
      const good = await doctor(home, env());
      expect(good.byId('model').status).toBe('ok');
      expect(good.byId('apiKey').status).toBe('ok');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await control.close();
    }

    // A local model server that is not running is a failure with a fix, not "offline".
    const unused = http.createServer();
    await new Promise<void>((r) => unused.listen(0, '127.0.0.1', r));
    const deadBase = `http://127.0.0.1:${(unused.address() as AddressInfo).port}`;
    await new Promise((r) => unused.close(r));
    const refused = await doctor(setup('h3', { anthropic: { baseUrl: deadBase } }), env());
    expect(refused.byId('model')).toMatchObject({ status: 'fail', detail: `nothing answers at ${deadBase}` });
  });

  it('notices when the Node the service runs is gone (e.g. after an nvm upgrade)', async () => {
    const home = setup('h5', {});
    const e = env();
    const unitDir = path.join(e.XDG_CONFIG_HOME, 'systemd', 'user');
    fs.mkdirSync(unitDir, { recursive: true });
    fs.writeFileSync(
      path.join(unitDir, 'errand.service'),
      systemdUnit({
        node: path.join(tmp, 'old-node', 'bin', 'node'),
        entry: path.join(projectDir(), 'daemon', 'bin', 'errand.js'),
        projectDir: projectDir(),
        home,
      }),
    );
    const d = await doctor(home, e, offline);
    expect(d.byId('service')).toMatchObject({ status: 'fail' });
    expect(d.byId('service').detail).toContain(path.join(tmp, 'old-node', 'bin', 'node'));
    expect(d.byId('service').fix).toContain('errand install');
    fs.rmSync(path.join(unitDir, 'errand.service'));
  });

  it('names an invalid config.json and still runs the other checks', async () => {
    const home = setup('h4', { port: 'not a number' });
    const d = await doctor(home, env({ ANTHROPIC_API_KEY: 'sk-ant-env' }), offline);
    expect(d.byId('config').status).toBe('fail');
    expect(d.byId('config').detail).toContain('"port"');
    expect(d.byId('apiKey').status).toBe('ok');
    expect(d.code).toBe(1);
  });

  it('warns while the push contact is a placeholder Apple refuses; an https publicUrl or a real contact is ok', async () => {
    const placeholder = await doctor(setup('h5', {}), env(), offline);
    expect(placeholder.byId('pushSubject')).toMatchObject({ status: 'warn', title: 'Push contact' });
    expect(placeholder.byId('pushSubject').detail).toContain('mailto:errand@localhost');
    expect(placeholder.byId('pushSubject').fix).toContain('"subject"');
    expect(placeholder.human).toMatch(/WARN\s+Push contact/);
    const localhost = await doctor(setup('h6', { push: { subject: 'mailto:me@localhost' } }), env(), offline);
    expect(localhost.byId('pushSubject')).toMatchObject({ status: 'warn' });
    const viaUrl = await doctor(setup('h7', { publicUrl: 'https://box.tail1234.ts.net' }), env(), offline);
    expect(viaUrl.byId('pushSubject')).toMatchObject({ status: 'ok', detail: 'https://box.tail1234.ts.net' });
    const contact = await doctor(setup('h8', { push: { subject: 'mailto:me@my-domain.org' } }), env(), offline);
    expect(contact.byId('pushSubject')).toMatchObject({ status: 'ok', detail: 'mailto:me@my-domain.org' });
  });
});
