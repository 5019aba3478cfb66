// `errand doctor` on a stopped daemon finds what `errand start` would refuse about listening, in
// start's own words: the port held by another program or another Errand (named by its home folder),
// a `bind` that is not on this computer; its phone-access line uses `bind`. A model URL on a port
// fetch refuses ("bad port") is said to be unusable, not "offline". Before, doctor said "ok" and
// "daemon not running" and start then exited 78; the bad port read as "this computer may be offline".
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { makeDoctorCommand } from '../../src/cli/commands/doctor.js';
import { startCommand } from '../../src/cli/commands/start.js';
import { startDaemon } from '../../src/daemon.js';
import type { Check } from '../../src/doctor/index.js';
import { recordingRunner } from '../../src/service/runner.js';
import { freePort, killChildren } from '../helpers/cli.js';
import { tempHome } from '../helpers/daemon.js';

const cleanups: Array<() => Promise<void> | void> = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  await killChildren(children);
  for (const c of cleanups.splice(0).reverse()) await c();
});

function home(config: Record<string, unknown>): string {
  const dir = tempHome('errand-doctor-listen-');
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config), { mode: 0o600 });
  return dir;
}

function collect(env: NodeJS.ProcessEnv) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env,
    interactive: false,
    confirm: async () => false,
  };
  return { io, out, err };
}

/** The environment of both commands: no login service, a state folder of its own, a closed model port. */
function envFor(dir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: path.join(dir, 'user'),
    XDG_CONFIG_HOME: path.join(dir, 'user', '.config'),
    XDG_STATE_HOME: path.join(dir, 'user', '.local', 'state'),
    ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
    ...extra,
  };
}

async function doctor(homeDir: string, env: NodeJS.ProcessEnv) {
  const t = collect(env);
  const cmd = makeDoctorCommand({ run: recordingRunner().run, platform: 'linux', timeoutMs: 2000 });
  const code = await cmd.run({ home: homeDir, values: { json: true }, positionals: [] }, t.io);
  const checks = (JSON.parse(t.out.join('\n')) as { checks: Check[] }).checks;
  return { code, byId: (id: string) => checks.find((c) => c.id === id) };
}

async function start(homeDir: string, env: NodeJS.ProcessEnv) {
  const t = collect(env);
  const code = await startCommand.run({ home: homeDir, values: {}, positionals: [] }, t.io);
  return { code, stderr: t.err.join('\n') };
}

/** A real other process listening on 127.0.0.1:port. */
async function holdPort(port: number): Promise<void> {
  const child = spawn(
    process.execPath,
    ['-e', `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('listening'))`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`port holder exited ${code}`)));
  });
}

const WOULD_STOP = '`errand start` would stop: ';
const regexEscaped = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

it('a port another program holds: doctor FAILs it in the words start then uses (exit 78)', async () => {
  const port = await freePort();
  await holdPort(port);
  const dir = home({ port });
  const env = envFor(dir);
  const d = await doctor(dir, env);
  const listen = d.byId('listen')!;
  expect(listen.status).toBe('fail');
  // The holder named from /proc (node, this child's pid) where Linux lets it be looked up.
  expect(listen.detail).toMatch(
    new RegExp(
      `^${regexEscaped(WOULD_STOP)}port ${port} on 127\\.0\\.0\\.1 is in use: another program holds it( \\(node, process \\d+\\))?\\.$`,
    ),
  );
  expect(d.code).toBe(1);
  const s = await start(dir, env);
  expect(s.code).toBe(78);
  expect(s.stderr).toBe(`errand start: ${listen.detail.slice(WOULD_STOP.length)}\n${listen.fix}`);
});

it("a port another Errand holds: both name that daemon's home folder, not `errand status` for this one", async () => {
  const port = await freePort();
  const dir = home({ port });
  const env = envFor(dir);
  // The other Errand runs with the default home folder of this environment.
  const otherHome = path.join(env.XDG_STATE_HOME!, 'errand');
  fs.mkdirSync(otherHome, { recursive: true, mode: 0o700 });
  const other = await startDaemon({ home: otherHome, env: {}, overrides: { port } });
  cleanups.push(() => other.stop('test'));

  const listen = (await doctor(dir, env)).byId('listen')!;
  expect(listen.status).toBe('fail');
  expect(listen.detail).toContain(`home folder ${otherHome}) is already running there`);
  expect(listen.detail).toContain(`\`ERRAND_HOME=${otherHome} errand status\` shows it`);
  const s = await start(dir, env);
  expect(s.code).toBe(78);
  expect(s.stderr).toBe(`errand start: ${listen.detail.slice(WOULD_STOP.length)}\n${listen.fix}`);
});

it('a bind address not on this computer: doctor FAILs it as start does, and the phone line uses it', async () => {
  // 203.0.113.0/24 is reserved for documentation: never an address of this machine.
  const port = await freePort();
  const dir = home({ port, bind: '203.0.113.7' });
  const env = envFor(dir);
  const d = await doctor(dir, env);
  const listen = d.byId('listen')!;
  expect(listen.status).toBe('fail');
  expect(listen.detail).toContain('cannot listen on 203.0.113.7: it is not an address of this computer');
  expect(d.byId('origin')!.detail).toContain(`http://203.0.113.7:${port}`);
  expect(d.byId('origin')!.detail).not.toContain('127.0.0.1');
  const s = await start(dir, env);
  expect(s.code).toBe(78);
  expect(s.stderr).toBe(`errand start: ${listen.detail.slice(WOULD_STOP.length)} ${listen.fix}`);
});

it('a free port on a loopback bind is ok, and the phone line names that address', async () => {
  const port = await freePort();
  const dir = home({ port, bind: '::1' });
  const d = await doctor(dir, envFor(dir));
  expect(d.byId('listen')!.status).toBe('ok');
  expect(d.byId('origin')!.detail).toBe(`only this computer can open Errand (http://[::1]:${port})`);
});

it('with the daemon running (it holds its port), no listen check', async () => {
  const dir = home({});
  const daemon = await startDaemon({ home: dir, env: {}, overrides: { port: 0 } });
  cleanups.push(() => daemon.stop('test'));
  const d = await doctor(dir, envFor(dir));
  expect(d.byId('daemon')!.status).toBe('ok');
  expect(d.byId('listen')).toBeUndefined();
});

it('a model URL on a port fetch refuses is said to be unusable, not offline', async () => {
  const dir = home({ anthropic: { apiKey: 'sk-ant-test', baseUrl: 'http://127.0.0.1:1' } });
  const model = (await doctor(dir, envFor(dir, { ANTHROPIC_BASE_URL: undefined }))).byId('model')!;
  expect(model.status).toBe('fail');
  expect(model.detail).toBe(
    'port 1 of http://127.0.0.1:1 cannot be used: the model client (fetch) refuses to connect to it',
  );
  expect(model.detail + model.fix).not.toMatch(/offline/);
  expect(model.fix).toContain('another port');
});
