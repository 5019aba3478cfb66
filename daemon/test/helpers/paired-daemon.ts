// A daemon as kill -9 tests need it: `errand start` in its own process with a phone paired through
// the CLI (or an earlier token, after a restart) and that phone's WebSocket; and the `sleep` a task's
// command runs, found by its unique duration, for the safety net that ends it.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { freePort, pairWithCli, spawnDaemon } from './cli.js';
import { WsTestClient } from './ws-client.js';

/** Everything started, for the test's afterEach to end. */
export interface Started {
  children: ChildProcess[];
  clients: WsTestClient[];
}

export async function startPairedDaemon(
  env: Record<string, string>,
  started: Started,
  opts: { token?: string; lastSeq?: number } = {},
) {
  const daemon = await spawnDaemon(env, await freePort());
  started.children.push(daemon.child);
  const token = opts.token ?? (await pairWithCli(env, daemon.url, 'Crash test phone', started.children));
  const ws = await WsTestClient.open(daemon.url, token, opts.lastSeq);
  started.clients.push(ws);
  return { daemon, ws, token };
}

/** Process ids of `sleep <secs>` running now. */
export function sleepPids(secs: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x)))
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8') === `sleep\u0000${secs}\u0000`) out.push(Number(p));
    } catch {
      /* gone */
    }
  return out;
}
