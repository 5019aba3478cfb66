// Where the running daemon answers, from its own status rather than from config.json: it may have
// been started with --port or --lan, or config.json changed since it started (a restart applies
// the listening address).
import http from 'node:http';
import os from 'node:os';
import { homePaths } from '../config/paths.js';
import { controlCall } from '../control/client.js';

export interface DaemonReach {
  /** The port it listens on. */
  port: number;
  /** The origins the listening socket serves now (loopback, LAN addresses, the https publicUrl). */
  listening: string[];
  /** The origins its configuration accepts (some may need a restart to be served). */
  origins: string[];
}

const LOOPBACK = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;

/** Read the reach out of a `status` answer (loosely typed: doctor reads it too); undefined when unusable. */
export function reachFromStatus(
  status: { listening?: unknown; origins?: unknown } | undefined,
): DaemonReach | undefined {
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((o): o is string => typeof o === 'string') : []);
  const origins = strings(status?.origins);
  const listening = status && Array.isArray(status.listening) ? strings(status.listening) : origins;
  const local =
    [...listening, ...origins].find((o) => LOOPBACK.test(o)) ?? listening.find((o) => o.startsWith('http:'));
  if (!local) return undefined;
  const port = Number(new URL(local).port || 80);
  return Number.isInteger(port) && port > 0 ? { port, listening, origins } : undefined;
}

/** The running daemon's reach, or undefined when no daemon answers for this home folder. */
export async function runningReach(home: string): Promise<DaemonReach | undefined> {
  try {
    return reachFromStatus(await controlCall(homePaths(home).socket, 'status', {}, { timeoutMs: 2000 }));
  } catch {
    return undefined;
  }
}

/** The plain-HTTP network addresses (not loopback) the daemon serves now: LAN mode in effect. */
export function lanServed(reach: DaemonReach): string[] {
  return reach.listening.filter((o) => o.startsWith('http://') && !LOOPBACK.test(o));
}

/**
 * This machine's network addresses (not loopback) where an Errand answers on `port` now. A Host
 * check is not a network boundary: while the socket listens on 0.0.0.0, any peer on the network
 * can send `Host: 127.0.0.1`, so asking the socket is the only honest test of "this computer only".
 */
export async function networkAddressesAnswering(port: number, timeoutMs = 1500): Promise<string[]> {
  const addresses = Object.values(os.networkInterfaces())
    .flatMap((infos) => infos ?? [])
    .filter((i) => !i.internal && !(i.family === 'IPv6' && i.address.toLowerCase().startsWith('fe80')))
    .map((i) => i.address);
  const answers = await Promise.all(addresses.map((a) => errandAnswersAt(a, port, timeoutMs)));
  return addresses.filter((_, i) => answers[i]);
}

function errandAnswersAt(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(
      {
        host: address,
        port,
        path: '/healthz',
        headers: { host: `127.0.0.1:${port}` },
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (body.length < 4096) body += d;
        });
        res.on('end', () => resolve(res.statusCode === 200 && body.includes('"errand"')));
        res.on('error', () => resolve(false));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
