// Starts a real daemon in this process on a free loopback port with a temporary home folder.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Daemon, type DaemonOptions, startDaemon } from '../../src/daemon.js';
import { WsTestClient } from './ws-client.js';

export interface TestDaemonOptions {
  /** Contents for config.json. */
  config?: Record<string, unknown>;
  /** Environment seen by the daemon (the real environment is not passed, so no real API key leaks in). */
  env?: Record<string, string>;
  /** Reuse a home folder (restart tests). */
  home?: string;
  /** Stand-ins injected into the modules (a fake push service's transport …). */
  push?: DaemonOptions['push'];
  /** How keep-awake starts its sleep inhibitor (a stand-in). */
  keepAwake?: DaemonOptions['keepAwake'];
  /** How long an upload or download may move no byte (default a minute). */
  transferIdleMs?: number;
}

export interface TestDaemon {
  daemon: Daemon;
  url: string;
  home: string;
  port: number;
  stop(): Promise<void>;
  /** Mint a pairing code as `errand pair` would. */
  mintPairCode(): { code: string; url: string };
  /** Approve the next claim automatically (as `errand pair --yes`). */
  approveNextClaim(): void;
  /** Pair a device end to end through the HTTP endpoint; returns its token. */
  pairDevice(name?: string): Promise<{ token: string; deviceId: string }>;
  /** Pair a device and open an authenticated WebSocket client. */
  connect(opts?: { token?: string; lastSeq?: number }): Promise<WsTestClient>;
}

export function tempHome(prefix = 'errand-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startTestDaemon(opts: TestDaemonOptions = {}): Promise<TestDaemon> {
  const home = opts.home ?? tempHome();
  if (opts.config) fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify(opts.config), { mode: 0o600 });
  const daemon = await startDaemon({
    home,
    env: { ...opts.env },
    overrides: { port: opts.config?.port === undefined ? 0 : undefined },
    push: opts.push,
    keepAwake: opts.keepAwake,
    transferIdleMs: opts.transferIdleMs,
  });
  const clients: WsTestClient[] = [];
  const td: TestDaemon = {
    daemon,
    url: daemon.url,
    home,
    port: daemon.port,
    async stop() {
      for (const c of clients) c.close();
      await daemon.stop('test');
    },
    mintPairCode() {
      const { code } = daemon.pairing.mint();
      return { code, url: `${daemon.url}/#pair=${code}` };
    },
    approveNextClaim() {
      daemon.pairing.events.once('claim', (c: { id: string }) => daemon.pairing.decide(c.id, true));
    },
    async pairDevice(name = 'Test phone') {
      const { code } = td.mintPairCode();
      td.approveNextClaim();
      const res = await fetch(`${daemon.url}/api/pair/claim`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code, name }),
      });
      if (res.status !== 200) throw new Error(`pairing failed: ${res.status} ${await res.text()}`);
      return (await res.json()) as { token: string; deviceId: string };
    },
    async connect(o = {}) {
      const token = o.token ?? (await td.pairDevice()).token;
      const client = await WsTestClient.open(daemon.url, token, o.lastSeq);
      clients.push(client);
      return client;
    },
  };
  return td;
}
