// `errand expose` and doctor's phone-access check describe the running daemon, not config.json: it
// may run with --port or --lan. And `expose off` says "this computer only" only when the socket
// really serves this computer only.
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { makeExposeCommand } from '../../src/cli/commands/expose.js';
import { type Daemon, startDaemon } from '../../src/daemon.js';
import { runDoctor } from '../../src/doctor/checks.js';
import { recordingRunner } from '../../src/service/runner.js';
import { freePort } from '../helpers/cli.js';
import { startTestDaemon, tempHome } from '../helpers/daemon.js';

const running: Array<{ stop(reason?: string): Promise<void> }> = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop('test');
});

/** No tailscale on this PATH, and no real user folders. */
function cliEnv(home: string): NodeJS.ProcessEnv {
  return { PATH: path.join(home, 'no-bin'), HOME: path.join(home, 'user') };
}

async function expose(home: string, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env: cliEnv(home),
    interactive: false,
    confirm: async () => false,
  };
  const code = await makeExposeCommand({ run: recordingRunner().run, platform: 'linux', followUpMs: 0 }).run(
    { home, values: {}, positionals: argv },
    io,
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function daemonWith(overrides: { port?: number; lan?: boolean }, config?: object): Promise<Daemon> {
  const home = tempHome();
  if (config) (await import('node:fs')).writeFileSync(path.join(home, 'config.json'), JSON.stringify(config));
  const d = await startDaemon({ home, env: {}, overrides: { port: 0, ...overrides } });
  running.push(d);
  return d;
}

const lanAddress = Object.values(os.networkInterfaces())
  .flatMap((i) => i ?? [])
  .find((i) => i.family === 'IPv4' && !i.internal)?.address;

describe('errand expose and doctor with a running daemon', () => {
  it('started with --port: expose url and status name its port, not config.json default', async () => {
    const port = await freePort();
    const d = await daemonWith({ port });
    const home = d.ctx.paths.home;
    const url = await expose(home, ['url', 'https://errand.example.com']);
    expect(url.code).toBe(0);
    expect(url.out).toContain(`Point your proxy at http://127.0.0.1:${port} `);
    const status = await expose(home, ['status']);
    expect(status.out).toContain(`This computer: http://127.0.0.1:${port}`);
    expect(status.out).not.toContain('7345');
  });

  it.skipIf(!lanAddress)('started with --lan: expose status and doctor say LAN mode is on', async () => {
    const d = await daemonWith({ lan: true });
    const home = d.ctx.paths.home;
    const status = await expose(home, ['status']);
    expect(status.out).toContain(`LAN mode: on, plain HTTP at `);
    expect(status.out).toContain(`http://${lanAddress}:${d.port}`);
    const checks = await runDoctor({ home, env: cliEnv(home), platform: 'linux', run: recordingRunner().run });
    const origin = checks.find((c) => c.id === 'origin')!;
    expect(origin.detail).toContain('LAN mode over plain HTTP');
    expect(origin.detail).not.toContain('only this computer');
  });

  it('doctor names the port the daemon runs on', async () => {
    const d = await daemonWith({});
    const home = d.ctx.paths.home;
    const checks = await runDoctor({ home, env: cliEnv(home), platform: 'linux', run: recordingRunner().run });
    expect(checks.find((c) => c.id === 'origin')!.detail).toContain(`http://127.0.0.1:${d.port})`);
  });
});

describe.skipIf(!lanAddress)('errand expose off', () => {
  it('after `expose lan` and a restart: the socket still serves the network until the next restart', async () => {
    const td = await startTestDaemon({ config: { lan: true, port: 0 } });
    running.push(td);
    const off = await expose(td.home, ['off']);
    expect(off.code).toBe(0);
    expect(off.out).not.toContain('this computer only now');
    expect(off.out).toContain(`still answers on your network at ${lanAddress}`);
    expect(off.out).toContain('until it restarts');
    expect(off.out).toContain('systemctl --user restart errand');
  });

  it('a daemon started with --lan: says so and how to undo it', async () => {
    const d = await daemonWith({ lan: true });
    const off = await expose(d.ctx.paths.home, ['off']);
    expect(off.out).not.toContain('this computer only now');
    expect(off.out).toContain('started with --lan');
  });

  it('a loopback daemon: reachable from this computer only', async () => {
    const d = await daemonWith({});
    const off = await expose(d.ctx.paths.home, ['off']);
    expect(off.out).toContain('Errand is reachable from this computer only now.');
  });
});

it('expose url with an address that is not https is a usage error (exit 2), and nothing is saved', async () => {
  const home = tempHome();
  const r = await expose(home, ['url', 'http://errand.example.com']);
  expect(r.err).toContain('must start with https://');
  expect(r.code).toBe(2);
  expect((await import('node:fs')).existsSync(path.join(home, 'config.json'))).toBe(false);
});
