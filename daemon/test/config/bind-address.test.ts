// `bind` must be an address of this computer: a name or a foreign address used to fail at listen
// with a raw socket error (exit 1), so the login service restart-looped on a configuration error.
// Nor every address at once: the Host check answers this computer only, so LAN mode is the way.
// And publicUrl, the other address setting, holds no login (it is shown wherever the address is).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCommand } from '../../src/cli/commands/start.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { tempHome } from '../helpers/daemon.js';

function homeWith(config: unknown): string {
  const home = tempHome('errand-bind-');
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify(config), { mode: 0o600 });
  return home;
}

function loadError(home: string, env: NodeJS.ProcessEnv = {}): Error | undefined {
  try {
    loadConfig({ home, env });
  } catch (err) {
    return err as Error;
  }
  return undefined;
}

describe('bind', () => {
  it('refuses a name that is not an IP address, naming the key (config.json and ERRAND_BIND)', () => {
    const fromFile = loadError(homeWith({ bind: 'not-an-ip' }));
    expect(fromFile).toBeInstanceOf(ConfigError);
    expect(fromFile!.message).toContain('"bind"');
    const fromEnv = loadError(homeWith({}), { ERRAND_BIND: 'nohost.invalid' });
    expect(fromEnv).toBeInstanceOf(ConfigError);
    expect(fromEnv!.message).toContain('"bind"');
  });

  it('accepts IP literals and localhost', () => {
    for (const bind of ['127.0.0.1', '::1', '192.0.2.2', 'localhost'])
      expect(loadError(homeWith({ bind })), bind).toBeUndefined();
  });

  it('refuses every-address binds (a phone would get 403 with nothing saying why), naming `errand expose lan`', () => {
    for (const bind of ['0.0.0.0', '::', '::0', '0:0:0:0:0:0:0:0', '::0.0.0.0', '::ffff:0.0.0.0']) {
      for (const err of [loadError(homeWith({ bind })), loadError(homeWith({}), { ERRAND_BIND: bind })]) {
        expect(err, bind).toBeInstanceOf(ConfigError);
        expect(err!.message).toContain('"bind"');
        expect(err!.message).toContain('errand expose lan');
      }
    }
  });

  it('an IPv6 address of this computer (::1) starts and answers at its bracketed origin', async () => {
    const home = homeWith({ bind: '::1', port: 0 });
    const { startDaemon } = await import('../../src/daemon.js');
    const daemon = await startDaemon({ home, env: {} });
    try {
      const origins = daemon.ctx.origins();
      expect(origins).toContain(`http://[::1]:${daemon.port}`);
      const res = await fetch(`http://[::1]:${daemon.port}/healthz`);
      expect(res.status).toBe(200);
    } finally {
      await daemon.stop('test');
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it('an address not on this computer stops start with 78 and a message naming bind', async () => {
    // 203.0.113.0/24 is reserved for documentation: never an address of this machine.
    const home = homeWith({ bind: '203.0.113.7', port: 0 });
    const errs: string[] = [];
    const code = await startCommand.run(
      { values: {}, positionals: [], home },
      { out: () => {}, err: (t) => errs.push(t), env: {}, interactive: false, confirm: async () => false },
    );
    expect(errs.join('\n')).toContain('`bind` (in config.json, or ERRAND_BIND)');
    expect(code).toBe(78);
  });
});

describe('publicUrl', () => {
  it('refuses a user name or password in it (it is shown in QR codes, status and expose), naming the key', () => {
    for (const publicUrl of ['https://user:S3cret@desk.example.ts.net', 'https://user@desk.example.ts.net']) {
      for (const err of [
        loadError(homeWith({ publicUrl })),
        loadError(homeWith({}), { ERRAND_PUBLIC_URL: publicUrl }),
      ]) {
        expect(err, publicUrl).toBeInstanceOf(ConfigError);
        expect(err!.message).toContain('"publicUrl"');
        expect(err!.message).not.toContain('S3cret');
      }
    }
    expect(loadError(homeWith({ publicUrl: 'https://desk.example.ts.net' }))).toBeUndefined();
  });
});
