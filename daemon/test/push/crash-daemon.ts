// Start the real daemon in a child process (crash-launch.ts, compiled) so a test can kill -9 it.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { ensureBuilt, ROOT } from '../agent/build.js';
import { freePort } from '../helpers/cli.js';
import type { FakePushService } from './push-service.js';

export interface ChildDaemon {
  child: ChildProcess;
  url: string;
  tokens: Array<{ token: string; deviceId: string }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

export const LAUNCHER = 'dist/daemon/test/push/crash-launch.js';

/** Make sure the launcher is built (call from beforeAll, with a long timeout). */
export function buildLauncher(): string {
  return ensureBuilt(LAUNCHER);
}

export async function spawnPushDaemon(
  svc: FakePushService,
  env: Record<string, string>,
  children: ChildProcess[],
): Promise<ChildDaemon> {
  const child = spawn(process.execPath, [path.join(ROOT, LAUNCHER)], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(await freePort()),
      PUSH_PORT: String(svc.port),
      PUSH_CA: svc.cert,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = await new Promise<{ url: string; tokens: ChildDaemon['tokens'] }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start: ${out}`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /^READY (.*)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(JSON.parse(m[1]) as { url: string; tokens: ChildDaemon['tokens'] });
      }
    });
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited (${e.code ?? e.signal}) before it was ready: ${out}`));
    });
  });
  return { child, ...ready, exited, output: () => out };
}

/** kill -9, and wait until the process is gone. */
export async function kill9(d: ChildDaemon): Promise<void> {
  d.child.kill('SIGKILL');
  await d.exited;
}
