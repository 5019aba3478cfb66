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

/**
 * A free TCP port on loopback, below the system's ephemeral range (32768-60999 here). A port taken
 * with listen(0) comes from that range, so while the daemon was starting on it another test's
 * listen(0) (a model server) could be handed the same port: the daemon then found it in use, and
 * the other server got its /healthz polls as requests.
 */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port between 20000 and 32000 on 127.0.0.1');
}

/**
 * `errand pair --yes --json`, then claim the code over HTTP as the phone does; returns the device
 * token. The CLI process is added to `children` so the test's cleanup ends it.
 */
export async function pairWithCli(
  env: Record<string, string>,
  url: string,
  name: string,
  children: ChildProcess[],
): Promise<string> {
  const readline = await import('node:readline');
  const child = spawn(process.execPath, [ERRAND_BIN, 'pair', '--yes', '--json'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const first = await new Promise<string>((resolve) =>
    readline.createInterface({ input: child.stdout! }).once('line', resolve),
  );
  const code = new URL(JSON.parse(first).url).hash.replace(/^#pair=/, '');
  const res = await fetch(`${url}/api/pair/claim`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, name }),
  });
  if (res.status !== 200) throw new Error(`pairing failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** SIGKILL every child process still running and wait until each has exited. */
export async function killChildren(children: ChildProcess[]): Promise<void> {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await gone;
    }
  }
}
