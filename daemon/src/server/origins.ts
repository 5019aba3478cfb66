// The names the daemon answers to (Host) and the origins it accepts (Origin), from configuration.
import os from 'node:os';
import type { Config } from '../config/schema.js';

export interface OriginPolicy {
  /** Allowed Host header values, lowercased, with port. */
  hosts: Set<string>;
  /** Allowed Origin header values. The first is where QR codes point. */
  origins: string[];
}

/** LAN IPv4 addresses of this machine (for --lan). */
export function lanAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((i): i is os.NetworkInterfaceInfo => !!i && i.family === 'IPv4' && !i.internal)
    .map((i) => i.address);
}

export function originPolicy(config: Config, port: number): OriginPolicy {
  const hosts = new Set<string>();
  const origins: string[] = [];
  const add = (origin: string) => {
    const u = new URL(origin);
    if (!origins.includes(u.origin)) origins.push(u.origin);
    hosts.add(u.host.toLowerCase());
  };
  if (config.publicUrl) add(config.publicUrl);
  add(`http://127.0.0.1:${port}`);
  add(`http://localhost:${port}`);
  add(`http://[::1]:${port}`);
  if (config.lan) for (const a of lanAddresses()) add(`http://${a}:${port}`);
  if (config.bind !== '127.0.0.1' && config.bind !== '0.0.0.0' && config.bind !== '::')
    add(`http://${config.bind}:${port}`);
  for (const h of config.allowedHosts) {
    hosts.add(h.toLowerCase());
    hosts.add(`${h.toLowerCase()}:${port}`);
  }
  return { hosts, origins };
}

/**
 * Of the accepted origins, those the listening socket actually serves: bound to 127.0.0.1 that is
 * 127.0.0.1 and localhost (not [::1], not a LAN address configured since the start); bound to
 * 0.0.0.0 every IPv4 address; bound to :: everything. The https publicUrl is served through its
 * proxy, so it stays.
 */
export function servedOrigins(origins: string[], boundHost: string): string[] {
  return origins.filter((o) => {
    const u = new URL(o);
    if (u.protocol === 'https:') return true;
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (boundHost === '::') return true;
    if (boundHost === '0.0.0.0') return host === 'localhost' || /^\d+\.\d+\.\d+\.\d+$/.test(host);
    if (boundHost === '127.0.0.1') return host === '127.0.0.1' || host === 'localhost';
    if (boundHost === '::1') return host === '::1';
    return host === boundHost;
  });
}

const LOOPBACK = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;

/**
 * The origin a phone can open (pairing links and QR codes): the HTTPS publicUrl, else a LAN or
 * bound address, else loopback, which only this computer can open (`phoneReachable: false`).
 */
export function phoneOrigin(origins: string[]): { origin: string; phoneReachable: boolean } {
  const https = origins.find((o) => o.startsWith('https://'));
  if (https) return { origin: https, phoneReachable: true };
  const network = origins.find((o) => !LOOPBACK.test(o));
  if (network) return { origin: network, phoneReachable: true };
  return { origin: origins[0], phoneReachable: false };
}

/** What to say beside a pairing code that only this computer can open. */
export const LOOPBACK_ONLY_HINT =
  'This address works only on this computer: a phone cannot open it. To pair a phone, first run ' +
  '`errand expose tailscale` (private HTTPS through Tailscale) or `errand expose url <https-url>` ' +
  '(your own HTTPS proxy); on a trusted home network `errand expose lan` also works.';
