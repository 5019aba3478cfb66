// The CLI as a user runs it, against a daemon started by `errand start` in a child process.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRAND_BIN, freePort, runErrand, spawnDaemon } from '../helpers/cli.js';
import { tempHome } from '../helpers/daemon.js';

let home: string;
let daemon: Awaited<ReturnType<typeof spawnDaemon>>;
beforeAll(async () => {
  home = tempHome();
  daemon = await spawnDaemon({ ERRAND_HOME: home }, await freePort());
});
afterAll(async () => {
  daemon.child.kill('SIGTERM');
  await daemon.exited;
});

/** `errand pair --yes --json` in the background; the phone side claims the code it prints. */
async function pairViaCli(name: string): Promise<{ token: string; deviceId: string; lines: string[] }> {
  const child = spawn(process.execPath, [ERRAND_BIN, 'pair', '--yes', '--json'], {
    env: { PATH: process.env.PATH ?? '', ERRAND_HOME: home },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  while (!out.includes('\n')) await new Promise((r) => setTimeout(r, 50));
  const { url } = JSON.parse(out.split('\n')[0]) as { url: string };
  expect(url.startsWith(`${daemon.url}/#pair=`)).toBe(true);
  const code = new URL(url).hash.slice('#pair='.length);
  const res = await fetch(`${daemon.url}/api/pair/claim`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, name }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { token: string; deviceId: string };
  expect(await exited).toBe(0);
  return { ...body, lines: out.trim().split('\n') };
}

describe('errand CLI', () => {
  it('--help lists every command and each command has --help', async () => {
    const top = await runErrand(['--help'], { ERRAND_HOME: home });
    expect(top.code).toBe(0);
    for (const name of [
      'start',
      'pair',
      'devices',
      'status',
      'roots',
      'allow',
      'disallow',
      'connectors',
      'trash',
      'push',
      'install',
      'uninstall',
      'logs',
      'expose',
      'doctor',
      'repair',
    ]) {
      expect(top.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
      const sub = await runErrand([name, '--help'], { ERRAND_HOME: home });
      expect(sub.code, name).toBe(0);
      expect(sub.stdout, name).toMatch(/Usage/);
    }
    const bad = await runErrand(['frobnicate'], { ERRAND_HOME: home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown command "frobnicate"/);
    // `errand help pair` is pair's own help, not the list of commands.
    const helpPair = await runErrand(['help', 'pair'], { ERRAND_HOME: home });
    expect(helpPair.code).toBe(0);
    expect(helpPair.stdout).toBe((await runErrand(['pair', '--help'], { ERRAND_HOME: home })).stdout);
    expect(helpPair.stdout).not.toMatch(/^Commands:/m);
    expect((await runErrand(['help', 'nope'], { ERRAND_HOME: home })).code).toBe(2);
  });

  it('pair --yes --json pairs a device; devices lists, renames and revokes it', async () => {
    const { deviceId, lines } = await pairViaCli('Phone <b>one</b>');
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ paired: { id: deviceId } });
    const list = await runErrand(['devices', '--json'], { ERRAND_HOME: home });
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ id: deviceId, name: 'Phone <b>one</b>' })]);
    expect(list.stdout).not.toMatch(/tokenHash/);

    const long = 'L'.repeat(100);
    const shortened = await runErrand(['devices', 'rename', deviceId, long], { ERRAND_HOME: home });
    expect(shortened.code).toBe(0);
    expect(shortened.stdout).toMatch(/shortened: names keep at most 80 characters/);
    const renamed = await runErrand(['devices', 'rename', deviceId, 'Work', 'phone'], { ERRAND_HOME: home });
    expect(renamed.code).toBe(0);
    expect(renamed.stdout).toBe(`Renamed ${deviceId} to "Work phone".\n`);
    const human = await runErrand(['devices'], { ERRAND_HOME: home });
    expect(human.stdout).toContain('Work phone');

    const status = await runErrand(['status', '--json'], { ERRAND_HOME: home });
    const s = JSON.parse(status.stdout);
    expect(s.devices.map((d: { name: string }) => d.name)).toEqual(['Work phone']);
    expect(s.origins[0]).toBe(daemon.url);
    expect(s.service).toMatchObject({ installed: false });
    // Bound to 127.0.0.1: [::1] is accepted as a Host but not served, so status does not list it.
    expect(s.listening).toEqual([daemon.url, daemon.url.replace('127.0.0.1', 'localhost')]);
    const humanStatus = await runErrand(['status'], { ERRAND_HOME: home });
    expect(humanStatus.stdout).toMatch(/^Reach it: {2}http:\/\/127\.0\.0\.1:\d+ {2}http:\/\/localhost:\d+$/m);
    expect(humanStatus.stdout).not.toContain('[::1]');

    expect((await runErrand(['devices', 'revoke', deviceId], { ERRAND_HOME: home })).code).toBe(0);
    expect(JSON.parse((await runErrand(['devices', '--json'], { ERRAND_HOME: home })).stdout)).toEqual([]);
    expect((await runErrand(['devices', 'revoke', deviceId], { ERRAND_HOME: home })).code).toBe(1);
  });

  it('push shows no subscriptions yet and refuses a test push to an unknown device', async () => {
    const r = await runErrand(['push'], { ERRAND_HOME: home });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/No device has notifications on/);
    expect((await runErrand(['push', 'test'], { ERRAND_HOME: home })).code).toBe(2);
    const nope = await runErrand(['push', 'test', 'dev_nope'], { ERRAND_HOME: home });
    expect(nope.code).toBe(1);
    expect(nope.stderr).toMatch(/^errand push: no such device: dev_nope/);
    const outcomes = await runErrand(['push', 'outcomes', 'dev_nope'], { ERRAND_HOME: home });
    expect(outcomes.code).toBe(1);
    expect(outcomes.stderr).toMatch(/^errand push: no such device: dev_nope/);
  });

  it('trash starts empty and refuses to restore an unknown item', async () => {
    const r = await runErrand(['trash'], { ERRAND_HOME: home });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/The trash is empty/);
    expect(JSON.parse((await runErrand(['trash', '--json'], { ERRAND_HOME: home })).stdout)).toEqual([]);
    const bad = await runErrand(['trash', 'restore', 'nope'], { ERRAND_HOME: home });
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().length).toBeGreaterThan(0);
  });

  it('errors read as one sentence with the command named, never a stack trace; bogus actions are not echoed', async () => {
    const accept = await runErrand(['connectors', 'accept', 'nope'], { ERRAND_HOME: home });
    expect(accept.code).toBe(1);
    expect(accept.stderr).toMatch(/^errand connectors: .*nope/);
    expect(accept.stderr).not.toMatch(/\n\s+at /);
    const frob = await runErrand(['connectors', 'frob', 'x'], { ERRAND_HOME: home });
    expect(frob.code).toBe(2);
    expect(frob.stderr).toContain('errand connectors: unknown action');
    expect(frob.stderr + frob.stdout).not.toContain('frob');
    for (const cmd of ['devices', 'push', 'trash']) {
      const r = await runErrand([cmd, 'frob'], { ERRAND_HOME: home });
      expect(r.code, cmd).toBe(2);
      expect(r.stderr, cmd).toBe(`errand ${cmd}: unknown action. Try \`errand ${cmd} --help\`.\n`);
    }
  });

  it("the daemon's own config.reload applies allow, disallow and connectors at once (no restart)", async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-cli-root-'));
    try {
      const allowed = await runErrand(['allow', folder], { ERRAND_HOME: home });
      expect(allowed.code, allowed.stderr).toBe(0);
      expect(allowed.stdout).not.toMatch(/not running/);
      // roots --json asks the running daemon (roots.list): the folder is live there already.
      const live = JSON.parse((await runErrand(['roots', '--json'], { ERRAND_HOME: home })).stdout) as {
        running: boolean;
        roots: { path: string }[];
      };
      expect(live.running).toBe(true);
      expect(live.roots.map((r) => r.path)).toContain(fs.realpathSync(folder));

      const server = path.resolve('node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
      const added = await runErrand(['connectors', 'add', 'files', '--yes', '--', process.execPath, server, folder], {
        ERRAND_HOME: home,
      });
      expect(added.code, added.stderr).toBe(0);
      expect(added.stdout).toMatch(/files {2}connected, \d+ tools/);
      const status = JSON.parse((await runErrand(['status', '--json'], { ERRAND_HOME: home })).stdout) as {
        connectors: { name: string; status: string }[];
      };
      expect(status.connectors).toEqual([expect.objectContaining({ name: 'files', status: 'connected' })]);
      expect((await runErrand(['connectors', 'remove', 'files'], { ERRAND_HOME: home })).code).toBe(0);

      expect((await runErrand(['disallow', folder], { ERRAND_HOME: home })).code).toBe(0);
      const after = JSON.parse((await runErrand(['roots', '--json'], { ERRAND_HOME: home })).stdout) as {
        roots: { path: string }[];
      };
      expect(after.roots.map((r) => r.path)).not.toContain(fs.realpathSync(folder));
      const gone = JSON.parse((await runErrand(['status', '--json'], { ERRAND_HOME: home })).stdout) as {
        connectors: unknown[];
      };
      expect(gone.connectors).toEqual([]);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('text from elsewhere cannot steer the terminal: escapes and direction marks are shown, not obeyed', async () => {
    const evil = 'ok\u001b[2K\rerrand-safe-tool\u202etxt.exe';
    const add = await runErrand(['connectors', 'add', 'sneaky', '--', 'node', evil], { ERRAND_HOME: home });
    expect(add.code).toBe(1); // not confirmed (no terminal, no --yes)
    expect(add.stdout).toContain('Errand will run this command');
    expect(add.stdout).not.toMatch(/[\u001b\r\u202e]/);
    expect(add.stdout).toContain('\\x1b[2K\\x0d');
    expect(add.stdout).toContain('\\u{202e}');
  });

  it('a port in use says which, who holds it, how to pick another, and exits as a configuration error', async () => {
    const other = tempHome();
    const blocker = net.createServer();
    try {
      const port = new URL(daemon.url).port;
      const taken = await runErrand(['start'], { ERRAND_HOME: other, ERRAND_PORT: port });
      expect(taken.code).toBe(78);
      expect(taken.stderr).toContain(`port ${port}`);
      expect(taken.stderr).toContain('another Errand daemon');
      expect(taken.stderr).toMatch(/--port \d+/);
      expect(taken.stderr).toContain('ERRAND_PORT');
      expect(taken.stderr).not.toMatch(/\n\s+at /);
      const blockedPort = await new Promise<number>((resolve) =>
        blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as net.AddressInfo).port)),
      );
      const plain = await runErrand(['start'], { ERRAND_HOME: other, ERRAND_PORT: String(blockedPort) });
      expect(plain.code).toBe(78);
      expect(plain.stderr).toContain('another program holds it');
    } finally {
      blocker.close();
      fs.rmSync(other, { recursive: true, force: true });
    }
  });
});
