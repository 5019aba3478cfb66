// Helpers for the journal tests: a home with paired devices (written to the store directly, as
// pairing would), the real `errand start` in its own process, and cleanup.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeviceStore } from '../../src/store/devices.js';
import { type CliResult, freePort, spawnDaemon } from '../helpers/cli.js';
import { WsTestClient } from '../helpers/ws-client.js';

export interface Proc {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<CliResult>;
}

export class Homes {
  private dirs: string[] = [];
  private procs: Proc[] = [];
  private clients: WsTestClient[] = [];

  async home(devices = ['Phone A']): Promise<{ home: string; tokens: string[] }> {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-journal-'));
    this.dirs.push(home);
    fs.mkdirSync(path.join(home, 'store'), { recursive: true, mode: 0o700 });
    const store = await DeviceStore.open(path.join(home, 'store'));
    const tokens: string[] = [];
    for (const name of devices) tokens.push((await store.add(name, undefined)).token);
    return { home, tokens };
  }

  async start(home: string, env: Record<string, string> = {}): Promise<Proc> {
    const d = await spawnDaemon({ ERRAND_HOME: home, ...env }, await freePort());
    this.procs.push(d);
    return d;
  }

  async connect(url: string, token: string, lastSeq?: number): Promise<WsTestClient> {
    const c = await WsTestClient.open(url, token, lastSeq);
    this.clients.push(c);
    return c;
  }

  async cleanup(): Promise<void> {
    for (const c of this.clients.splice(0)) c.close();
    for (const p of this.procs.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGKILL');
        await p.exited;
      }
    }
    for (const d of this.dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  }
}

/** Sequence numbers of the events a client received: 1…N, no gap, no duplicate. */
export function expectContiguous(seqs: number[]): boolean {
  return seqs.every((s, i) => s === i + 1);
}
