// Daemon cold start (process spawn to accepting connections) and idle resident memory after start.
// Targets: under 500 ms; under 80 MB. The baseline is a bare `node -e` HTTP server in the same run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DAEMON_ENV, DAEMON_NODE_FLAGS } from '../../daemon/src/util/node-flags.js';
import { PROJECT_ROOT } from '../../daemon/src/util/project-root.js';
import { ms, percentile, report } from './stats.js';

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function startAndMeasure(
  args: string[],
  env: Record<string, string>,
  port: number,
): Promise<{ ms: number; rss: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { env: { ...env, PATH: process.env.PATH ?? '' }, stdio: 'ignore' });
  try {
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (res.ok) break;
      } catch {
        /* not yet */
      }
      if (performance.now() - t0 > 10_000) throw new Error('did not start in 10 s');
      await new Promise((r) => setTimeout(r, 5));
    }
    const elapsed = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 1500)); // settle to idle
    return { ms: elapsed, rss: rssMb(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

export async function benchColdStart(): Promise<boolean> {
  const starts: number[] = [];
  const rss: number[] = [];
  const base: number[] = [];
  const firstRuns: number[] = [];
  for (let i = 0; i < 5; i++) {
    const port = await freePort();
    const baseline = await startAndMeasure(
      ['-e', `require('http').createServer((q,s)=>s.end('ok')).listen(${port},'127.0.0.1')`],
      {},
      port,
    );
    base.push(baseline.ms);
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-bench-cold-'));
    // Started the way `npm start` and the login service start it. The first start of a new home
    // also creates its state (push keys, workspace): measured apart; the target is a normal start.
    const args = [...DAEMON_NODE_FLAGS, path.join(PROJECT_ROOT, 'daemon', 'bin', 'errand.js'), 'start'];
    const port1 = await freePort();
    firstRuns.push(
      (await startAndMeasure(args, { ...DAEMON_ENV, ERRAND_HOME: home, ERRAND_PORT: String(port1) }, port1)).ms,
    );
    const port2 = await freePort();
    const r = await startAndMeasure(args, { ...DAEMON_ENV, ERRAND_HOME: home, ERRAND_PORT: String(port2) }, port2);
    starts.push(r.ms);
    rss.push(r.rss);
    fs.rmSync(home, { recursive: true, force: true });
  }
  const med = percentile(starts, 50);
  const mem = percentile(rss, 50);
  console.log(
    `cold start median ${ms(med)} (first start of a new home ${ms(percentile(firstRuns, 50))}; bare node http server ${ms(percentile(base, 50))}); idle RSS ${mem.toFixed(1)} MB`,
  );
  const a = report('cold start to accepting connections', ms(med), med < 500, '< 500 ms');
  const b = report('idle resident memory', `${mem.toFixed(1)} MB`, mem < 80, '< 80 MB');
  return a && b;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await benchColdStart()) ? 0 : 1;
