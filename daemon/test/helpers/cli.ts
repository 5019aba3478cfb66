// Run the built `errand` CLI as a child process (the way a user or the service manager does).
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/util/project-root.js';

export const ERRAND_BIN = path.join(PROJECT_ROOT, 'daemon', 'bin', 'errand.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function runErrand(args: string[], env: Record<string, string>, timeoutMs = 20_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ERRAND_BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`errand ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Start `errand start` in the background and wait until it answers /healthz. */
export async function spawnDaemon(
  env: Record<string, string>,
  port: number,
): Promise<{ child: ChildProcess; url: string; output: () => string; exited: Promise<CliResult> }> {
  const child = spawn(process.execPath, [ERRAND_BIN, 'start'], {
    env: { PATH: process.env.PATH ?? '', ERRAND_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<CliResult>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout: out, stderr: err })),
  );
  const url = `http://127.0.0.1:${port}`;
  // Generous: on a loaded 2-core CI machine a cold start can take seconds.
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`daemon exited early (${child.exitCode}): ${out}\n${err}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { child, url, output: () => out + err, exited };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`daemon did not come up: ${out}\n${err}`);
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
