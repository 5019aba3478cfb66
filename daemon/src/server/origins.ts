// The names the daemon answers to (Host) and the origins it accepts (Origin), from configuration.
import os from 'node:os';
import type { Config } from '../config/schema.js';

export interface OriginPolicy {
  /** Allowed Host header values, lowercased, with port. */
  hosts: Set<string>;
  /** Allowed Origin header values. The first is where QR codes point. */
  origins: string[];
}

/** Container and VM bridges: a phone is never behind them. */
const BRIDGE_INTERFACE = /^(docker|br-|veth|virbr|vboxnet|vmnet|lxcbr|lxdbr|podman|cni)/i;
/** VPN and tailnet tunnels: only a phone on the same VPN is behind them. */
const TUNNEL_INTERFACE = /^(tun|tap|utun|tailscale|wg|zt)/i;

const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;
const octets = (a: string) => a.split('.').map(Number);
/** RFC 1918: where home and office networks live. */
const isPrivate = (address: string) => {
  const [a, b] = octets(address);
  return a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
};
/** 169.254/16: the address a machine gives itself when no DHCP server answered. */
const isLinkLocal = (address: string) => {
  const [a, b] = octets(address);
  return a === 169 && b === 254;
};
/** 100.64/10: carrier-grade NAT, and the range Tailscale hands out. */
const isCgnat = (address: string) => {
  const [a, b] = octets(address);
  return a === 100 && b >= 64 && b <= 127;
};

/**
 * How likely a phone on the owner's network can open this address, 0 best: private on a
 * physical-looking interface; other physical; a tunnel or CGNAT (a phone on the same VPN only);
 * a container bridge or link-local (never: a QR code does not point there).
 */
function phoneRank(address: string, iface?: string): 0 | 1 | 2 | 3 {
  if ((iface && BRIDGE_INTERFACE.test(iface)) || isLinkLocal(address)) return 3;
  if ((iface && TUNNEL_INTERFACE.test(iface)) || isCgnat(address)) return 2;
  return isPrivate(address) ? 0 : 1;
}

export interface LanAddress {
  address: string;
  interface: string;
  /** Private or public on a physical-looking interface: where a phone on the same network can go. */
  forPhone: boolean;
}

/**
 * Non-loopback IPv4 addresses of this machine (for --lan), best for a phone first: the OS lists
 * interfaces in no useful order, and docker0 or a VPN often comes before the Wi-Fi. All of them stay
 * accepted origins; only the QR code's choice depends on the order.
 */
export function lanCandidates(): LanAddress[] {
  const found: Array<LanAddress & { rank: number }> = [];
  for (const [name, infos] of Object.entries(os.networkInterfaces())) {
    for (const i of infos ?? []) {
      if (i.family !== 'IPv4' || i.internal) continue;
      const rank = phoneRank(i.address, name);
      found.push({ address: i.address, interface: name, forPhone: rank <= 1, rank });
    }
  }
  // Array.prototype.sort is stable: within a rank, the OS order stays.
  return found.sort((x, y) => x.rank - y.rank).map(({ rank: _rank, ...c }) => c);
}

/** LAN IPv4 addresses of this machine (for --lan), best for a phone first. */
export function lanAddresses(): string[] {
  return lanCandidates().map((c) => c.address);
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
 * The origin a phone can open (pairing links and QR codes): the HTTPS publicUrl, else the LAN or
 * bound address a phone most likely reaches (a private address on a physical-looking interface
 * before a VPN or tailnet one; never a container bridge or link-local), else loopback, which only
 * this computer can open (`phoneReachable: false`).
 */
export function phoneOrigin(origins: string[]): { origin: string; phoneReachable: boolean } {
  const https = origins.find((o) => o.startsWith('https://'));
  if (https) return { origin: https, phoneReachable: true };
  const interfaceOf = new Map(lanCandidates().map((c) => [c.address, c.interface]));
  let best: { origin: string; rank: number } | undefined;
  for (const o of origins) {
    if (LOOPBACK.test(o)) continue;
    const host = new URL(o).hostname;
    const rank = IPV4.test(host) ? phoneRank(host, interfaceOf.get(host)) : 0;
    if (rank < 3 && (!best || rank < best.rank)) best = { origin: o, rank };
  }
  if (best) return { origin: best.origin, phoneReachable: true };
  return { origin: origins[0], phoneReachable: false };
}

/**
 * When `shown` is one of this computer's LAN addresses: the others a phone might use instead
 * (another network this computer is on, a VPN or tailnet), with their interface, for `errand pair`
 * to list beside the QR code. Container bridges and link-local addresses are left out.
 */
export function otherLanOrigins(shown: string): Array<{ origin: string; interface: string }> {
  const u = new URL(shown);
  if (u.protocol !== 'http:') return [];
  const all = lanCandidates();
  if (!all.some((c) => c.address === u.hostname)) return [];
  return all
    .filter((c) => c.address !== u.hostname && phoneRank(c.address, c.interface) < 3)
    .map((c) => ({ origin: `http://${c.address}${u.port ? `:${u.port}` : ''}`, interface: c.interface }));
}

/** What to say beside a pairing code that only this computer can open. */
export const LOOPBACK_ONLY_HINT =
  'This address works only on this computer: a phone cannot open it. To pair a phone, first run ' +
  '`errand expose tailscale` (private HTTPS through Tailscale) or `errand expose url <https-url>` ' +
  '(your own HTTPS proxy); on a trusted home network `errand expose lan` also works.';
