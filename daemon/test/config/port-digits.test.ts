// A port is typed in decimal digits: "0xb7a5" or "4.7443e4" (which Number() reads as 47013 and
// 47443) is refused, a bad ERRAND_PORT is named as ERRAND_PORT (not config.json's "port"), and when
// the port is taken while ERRAND_PORT is set, the advice changes ERRAND_PORT: it overrides the file.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { startCommand } from '../../src/cli/commands/start.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { tempHome } from '../helpers/daemon.js';

function quietIo(env: NodeJS.ProcessEnv, errs: string[]): CliIO {
  return { out: () => {}, err: (t) => errs.push(t), env, interactive: false, confirm: async () => false };
}

function configError(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig({ home: tempHome('errand-port-'), env });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`ERRAND_PORT=${env.ERRAND_PORT} was accepted`);
}

/** A port another program listens on (it hangs up at once: not an Errand), for as long as the test runs. */
async function busyPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('port numbers are decimal digits', () => {
  it('ERRAND_PORT takes digits only, and a bad one is named as ERRAND_PORT', () => {
    for (const raw of ['0xb7a5', '4.7443e4', '47443.0', ' 47443', '+47443', '0b1010', '99999', '123456']) {
      const message = configError({ ERRAND_PORT: raw });
      expect(message).toContain(`ERRAND_PORT="${raw}" is not valid`);
      expect(message).not.toContain('"port"');
    }
    expect(loadConfig({ home: tempHome('errand-port-'), env: { ERRAND_PORT: '47443' } }).port).toBe(47443);
    expect(loadConfig({ home: tempHome('errand-port-'), env: { ERRAND_PORT: '65535' } }).port).toBe(65535);
    // 0 (a free port, for tests) stays allowed as before.
    expect(loadConfig({ home: tempHome('errand-port-'), env: { ERRAND_PORT: '0' } }).port).toBe(0);
  });

  it('`errand start --port` refuses hex and exponent forms before starting anything', async () => {
    for (const raw of ['0xb7a5', '4.7443e4', '1e3']) {
      const home = tempHome('errand-port-');
      const errs: string[] = [];
      const code = await startCommand.run({ values: { port: raw }, positionals: [], home }, quietIo({}, errs));
      expect(code).toBe(2);
      expect(errs.join('\n')).toContain(`--port must be a whole number from 1 to 65535, not "${raw}"`);
      expect(fs.existsSync(path.join(home, 'daemon.lock'))).toBe(false);
    }
  });

  it('a port in use while ERRAND_PORT is set: the advice changes ERRAND_PORT, not config.json', async () => {
    const busy = await busyPort();
    try {
      const home = tempHome('errand-port-');
      fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ port: busy.port }));
      const next = busy.port < 65535 ? busy.port + 1 : busy.port - 1;

      const errs: string[] = [];
      const code = await startCommand.run(
        { values: {}, positionals: [], home },
        quietIo({ ERRAND_PORT: String(busy.port) }, errs),
      );
      expect(code).toBe(78);
      const said = errs.join('\n');
      expect(said).toContain(`port ${busy.port} on 127.0.0.1 is in use`);
      expect(said).toContain(`ERRAND_PORT=${next}`);
      expect(said).toContain('overrides "port" in config.json');
      expect(said).not.toContain(`"port": ${next} in`);

      // Without ERRAND_PORT the port came from config.json, and changing it there works.
      const plain: string[] = [];
      expect(await startCommand.run({ values: {}, positionals: [], home }, quietIo({}, plain))).toBe(78);
      expect(plain.join('\n')).toContain(`"port": ${next} in ${path.join(home, 'config.json')}`);
    } finally {
      await busy.close();
    }
  });
});
