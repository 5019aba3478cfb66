// The daemon as users run it, in its own process, for the benchmarks: `errand start` on a free port
// of a prepared home with the Node flags and environment its login service uses, ready once /healthz answers.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { DAEMON_ENV, DAEMON_NODE_FLAGS } from '../../daemon/src/util/node-flags.js';
import { PROJECT_ROOT } from '../../daemon/src/util/project-root.js';

export interface DaemonProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** ERRAND_BENCH_NODE_FLAGS adds Node flags to the daemon's (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof to profile it). */
export function benchNodeFlags(): string[] {
  return (process.env.ERRAND_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
}

export async function startDaemonProcess(home: string, env: Record<string, string> = {}): Promise<DaemonProcess> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(
    process.execPath,
    [...DAEMON_NODE_FLAGS, ...benchNodeFlags(), path.join(PROJECT_ROOT, 'daemon', 'bin', 'errand.js'), 'start'],
    {
      // No PATH: this machine's sleep inhibitor may fail and be restarted per task, which a real desktop does not do.
      env: { ...DAEMON_ENV, PATH: '', ERRAND_HOME: home, ERRAND_PORT: String(port), ERRAND_LOG_LEVEL: 'error', ...env },
      stdio: ['ignore', 'ignore', 'ignore'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`daemon exited (${child.exitCode})`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}
