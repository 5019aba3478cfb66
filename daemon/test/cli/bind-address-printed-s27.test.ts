// `bind` set to another address than 127.0.0.1: what Errand prints is where it answers. With
// `bind: "::1"` the start banner, the origins and `errand expose` name http://[::1]:PORT (nothing
// answers at 127.0.0.1); with `bind` set to a network address the start says it serves plain HTTP on
// the network, as LAN mode does. Before, they named http://127.0.0.1:PORT, which refused, and a
// network `bind` started without a word about plain HTTP on the network.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { makeExposeCommand } from '../../src/cli/commands/expose.js';
import { runDoctor } from '../../src/doctor/index.js';
import { recordingRunner } from '../../src/service/runner.js';
import { ERRAND_BIN, freePort } from '../helpers/cli.js';
import { startTestDaemon, type TestDaemon, tempHome } from '../helpers/daemon.js';

const homes: string[] = [];
let td: TestDaemon | undefined;
afterEach(async () => {
  await td?.stop();
  td = undefined;
  for (const h of homes.splice(0)) fs.rmSync(h, { recursive: true, force: true });
});

function homeWith(config: Record<string, unknown>): string {
  const home = tempHome('errand-bind-words-');
  homes.push(home);
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify(config), { mode: 0o600 });
  return home;
}

async function expose(home: string, args: string[]): Promise<string> {
  const lines: string[] = [];
  const io: CliIO = {
    out: (t) => lines.push(t),
    err: (t) => lines.push(t),
    env: { ERRAND_HOME: home, PATH: process.env.PATH },
    interactive: false,
    confirm: async () => false,
  };
  const cmd = makeExposeCommand({ run: recordingRunner().run, platform: 'linux', followUpMs: 0 });
  expect(await cmd.run({ values: {}, positionals: args, home }, io)).toBe(0);
  return lines.join('\n');
}

/** `errand start` as a user runs it: its output up to the banner and what follows at once, then stopped. */
async function startOutput(home: string): Promise<string> {
  const child = spawn(process.execPath, [ERRAND_BIN, 'start'], {
    env: { PATH: process.env.PATH ?? '', ERRAND_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    for (let i = 0; i < 300 && !/No phone is paired/.test(out); i++) {
      if (child.exitCode !== null) throw new Error(`errand start exited early: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  return out;
}

/** An IPv4 address of this computer on a network (not loopback), if it has one. */
const networkAddress = Object.values(os.networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

describe('bind: "::1"', () => {
  it('the daemon, its origins and `errand expose` name http://[::1]:PORT, which answers', async () => {
    const home = homeWith({ bind: '::1', port: 0 });
    td = await startTestDaemon({ home });
    const local = `http://[::1]:${td.port}`;
    expect.soft(td.daemon.url).toBe(local);
    expect.soft(td.daemon.ctx.origins()).toEqual([local]);
    expect((await fetch(`${local}/healthz`)).status).toBe(200);

    const status = await expose(home, ['status']);
    expect.soft(status).toContain(`This computer: ${local}`);
    expect.soft(status).not.toContain('127.0.0.1');
    // Doctor's phone-address check names it too (before `expose url` sets an https address).
    const checks = await runDoctor({
      home,
      env: { PATH: process.env.PATH ?? '', HOME: home },
      platform: 'linux',
      run: recordingRunner().run,
      fetch: async () => {
        throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } });
      },
      timeoutMs: 500,
    });
    expect.soft(checks.find((c) => c.id === 'origin')?.detail).toBe(`only this computer can open Errand (${local})`);
    const url = await expose(home, ['url', 'https://desk.example.ts.net']);
    expect(url).toContain(`Point your proxy at ${local}`);
  });

  it('a stopped daemon: `errand expose` names where it will answer', async () => {
    const home = homeWith({ bind: '::1', port: 23999 });
    expect(await expose(home, ['status'])).toContain('This computer: http://[::1]:23999');
  });

  it('the start banner names http://[::1]:PORT and gives no plain-HTTP warning', async () => {
    const port = await freePort();
    const out = await startOutput(homeWith({ bind: '::1', port }));
    expect(out).toContain(`is running at http://[::1]:${port} `);
    expect(out).not.toContain('127.0.0.1');
    expect(out).not.toMatch(/plain HTTP on your network/i);
  }, 60_000);
});

describe.skipIf(!networkAddress)('bind set to a network address', () => {
  it('the start banner names that address and warns of plain HTTP on the network', async () => {
    const port = await freePort();
    const out = await startOutput(homeWith({ bind: networkAddress, port }));
    expect(out).toContain(`is running at http://${networkAddress}:${port} `);
    expect(out).toContain(`Plain HTTP on your network at http://${networkAddress}:${port}`);
    expect(out).toContain('set "bind" to 127.0.0.1');
  }, 60_000);
});
