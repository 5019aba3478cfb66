// "Port in use" names who holds the port (README: "the message says who holds it"): another Errand
// by its home folder (tested elsewhere), and on Linux any other program by its name and process id,
// read from /proc; `errand start` and `errand doctor` say it in the same words.
import { type ChildProcess, spawn } from 'node:child_process';
import readline from 'node:readline';
import { afterEach, expect, it } from 'vitest';
import { portInUseProblem } from '../../src/doctor/listen-check.js';
import { portHolder } from '../../src/doctor/port-holder.js';
import { freePort, killChildren, runErrand } from '../helpers/cli.js';
import { tempHome } from '../helpers/daemon.js';

const children: ChildProcess[] = [];
afterEach(async () => {
  await killChildren(children);
});

/** Another program (not an Errand, not HTTP) listening on `port`, named `portsitter`. */
async function portSitter(port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `process.title = 'portsitter'; require('node:net').createServer().listen(${port}, '127.0.0.1', () => console.log('listening'));`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the port sitter exited (${code})`)));
    readline.createInterface({ input: child.stdout! }).once('line', () => resolve());
  });
  return child;
}

it.skipIf(process.platform !== 'linux')(
  '`errand start` on a port another program holds names it and its process id',
  async () => {
    const port = await freePort();
    const sitter = await portSitter(port);
    const home = tempHome('errand-port-holder-');
    const r = await runErrand(['start'], { ERRAND_HOME: home, ERRAND_PORT: String(port) });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(
      `port ${port} on 127.0.0.1 is in use: another program holds it (portsitter, process ${sitter.pid}).`,
    );
    expect(r.stderr).toContain(`ERRAND_PORT=${port + 1}`);
  },
  30_000,
);

it.skipIf(process.platform !== 'linux')(
  "doctor's words name it too; a port nobody holds has no holder, and a tiny bound gives up quietly",
  async () => {
    const port = await freePort();
    const sitter = await portSitter(port);
    const found = await portInUseProblem({ port, address: '127.0.0.1' }, tempHome('errand-port-holder-'), {
      flag: true,
      env: {},
    });
    expect(found.problem).toBe(
      `port ${port} on 127.0.0.1 is in use: another program holds it (portsitter, process ${sitter.pid}).`,
    );
    expect(portHolder(port)).toMatchObject({ pid: sitter.pid, name: 'portsitter', uid: process.getuid!() });
    // Out of its bounds before it finds the process: the socket's owner only, no guess.
    expect(portHolder(port, { maxFds: 0, maxMs: 500 })).toEqual({ uid: process.getuid!() });
    expect(portHolder(await freePort())).toBeUndefined();
  },
  30_000,
);
