// Resident memory of the daemon process (VmRSS from /proc, after a settle) as finished tasks pile
// up: one-turn tasks run through the WebSocket against the scripted Messages API, 32 at a time.
// Figures: RSS after 200 tasks and after 4,000 in the same daemon (target: <= 1.2x), and idle RSS
// just after a restart on the home with 4,000 finished tasks (target: <= 70 MB). Baseline in the
// same run: idle RSS after start on an empty home.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { reply, startModelServer, text } from '../../daemon/test/helpers/model-server.js';
import { type DaemonProcess, startDaemonProcess } from './daemon-process.js';
import { report } from './stats.js';
import { connectTaskClient, prepareTaskHome } from './tiny-tasks.js';

const FEW = 200;
const MANY = 4000;
const PARALLEL = 32;
const mb = (n: number) => `${(n / 1024).toFixed(1)} MB`;

function vmRssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error('no VmRSS');
  return Number(m[1]);
}

/**
 * RSS once it has stopped moving: 3 s without a change over 1 %, at most 12 s. A daemon that goes
 * quiet gives memory back within ~3 s (util/memory-trim.ts: checks every 2 s while idle), so a
 * shorter window could read the figure from before that.
 */
async function settledRss(pid: number): Promise<number> {
  let last = vmRssKb(pid);
  let stable = 0;
  for (let i = 0; i < 48 && stable < 12; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const now = vmRssKb(pid);
    stable = Math.abs(now - last) <= last * 0.01 ? stable + 1 : 0;
    last = now;
  }
  return last;
}

export async function benchRss(): Promise<boolean> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-bench-rss-'));
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-bench-rss-empty-'));
  const server = await startModelServer();
  server.setScript(() => reply(text('Done.')));
  const env = { ANTHROPIC_API_KEY: 'sk-bench', ANTHROPIC_BASE_URL: server.url };
  let daemon: DaemonProcess | undefined;
  try {
    const token = await prepareTaskHome(home);
    await prepareTaskHome(empty);
    daemon = await startDaemonProcess(home, env);
    const client = await connectTaskClient(daemon.url, token);
    let ran = 0;
    const runUpTo = async (n: number) => {
      while (ran < n) {
        const batch = Math.min(PARALLEL, n - ran);
        const states = await Promise.all(Array.from({ length: batch }, (_, i) => client.runTask(`task ${ran + i}`)));
        const bad = states.filter((s) => s !== 'done');
        if (bad.length) throw new Error(`${bad.length} tasks ended ${bad[0]}`);
        ran += batch;
      }
    };
    await runUpTo(FEW);
    const few = await settledRss(daemon.pid);
    process.stdout.write(`after ${FEW} tasks: ${mb(few)}; running up to ${MANY}…\n`);
    await runUpTo(MANY);
    const many = await settledRss(daemon.pid);
    client.close();
    await daemon.stop();

    // Idle after a restart, interleaved with the empty home's idle figure.
    const idleHome: number[] = [];
    const idleEmpty: number[] = [];
    for (let r = 0; r < 2; r++) {
      daemon = await startDaemonProcess(empty, env);
      idleEmpty.push(await settledRss(daemon.pid));
      await daemon.stop();
      daemon = await startDaemonProcess(home, env);
      idleHome.push(await settledRss(daemon.pid));
      await daemon.stop();
    }
    daemon = undefined;
    const idle = Math.max(...idleHome);
    const base = Math.max(...idleEmpty);
    console.log(
      `RSS after ${FEW} tasks ${mb(few)}, after ${MANY} ${mb(many)}; idle after start with ${MANY} finished tasks ${mb(idle)} (runs: ${idleHome.map(mb).join(', ')}); empty home idle ${mb(base)}`,
    );
    const a = report(`idle RSS, home with ${MANY} finished tasks`, mb(idle), idle <= 70 * 1024, '<= 70 MB');
    const b = report(
      `RSS after ${MANY} tasks vs after ${FEW}`,
      `${(many / few).toFixed(2)}x`,
      many <= few * 1.2,
      '<= 1.2x',
    );
    return a && b;
  } finally {
    await daemon?.stop();
    await server.close();
    fs.rmSync(home, { recursive: true, force: true });
    fs.rmSync(empty, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await benchRss()) ? 0 : 1;
