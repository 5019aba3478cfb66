// The names the daemon answers to (Host) and the origins it accepts (Origin), from configuration.
import { isIPv6 } from 'node:net';
import os from 'node:os';
import type { Config } from '../config/schema.js';

export interface OriginPolicy {
  /** Allowed Host header values, lowercased, with port. */
  hosts: Set<string>;
  /** Allowed Origin header values: the daemon's own origins, then those of its allowedHosts names. */
  origins: string[];
  /**
   * The daemon's own origins, the ones offered (pairing links, status, what it listens on); the
   * first is where QR codes point. An allowedHosts name's origins are accepted, never offered:
   * whether a phone can resolve that name, or an https proxy answers there, is not known here.
   */
  offered: string[];
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
  // An IPv6 literal goes in brackets in a URL (`http://[::1]:7345`).
  if (config.bind !== '127.0.0.1') add(`http://${isIPv6(config.bind) ? `[${config.bind}]` : config.bind}:${port}`);
  const offered = [...origins];
  for (const h of config.allowedHosts) {
    hosts.add(h.toLowerCase());
    hosts.add(`${h.toLowerCase()}:${port}`);
    for (const o of namedOrigins(h, port)) {
      if (!origins.includes(o)) origins.push(o);
      hosts.add(new URL(o).host); // what a browser there sends (an international name in its xn-- form)
    }
  }
  return { hosts, origins, offered };
}

/**
 * The origins of the page when Errand is opened by an allowedHosts name (README: "extra Host names
 * to answer to"): at that name on the daemon's port (LAN mode, a name in /etc/hosts), or through an
 * https proxy that keeps the Host, on its default port (as publicUrl's). Without them the app loads
 * there, and its own requests and WebSocket are refused as another site's. A name that already
 * gives its port is taken as the whole address. A value that is no host name gives none.
 */
function namedOrigins(name: string, port: number): string[] {
  // Only a host (and port): not a path, a query, a login or a scheme.
  if (/[/?#@\\]/.test(name) || !URL.canParse(`http://${name}`)) return [];
  // As browsers send it: lowercase, and an international name in its xn-- form.
  const url = new URL(`http://${name}`);
  if (url.port) return [`http://${url.host}`, `https://${url.host}`];
  return [`http://${url.hostname}:${port}`, `https://${url.hostname}`];
}

/** In LAN mode, how old the addresses read from the interfaces may get before a request reads them again. */
const LAN_RECHECK_MS = 3_000;
/** Reads a flood of Hosts naming unknown addresses can cause: a few a second, so refusing stays cheap. */
const MISS_READS_PER_SECOND = 10;
const IPV4_HOST = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/;

/** Host values; before one is refused, the owner may look again (an address this computer just gained). */
class RecheckedHosts extends Set<string> {
  constructor(private readonly lookAgain: (host: string) => boolean) {
    super();
  }

  override has(host: string): boolean {
    return super.has(host) || (this.lookAgain(host) && super.has(host));
  }
}

/**
 * The origin policy of a running daemon. In LAN mode its LAN part follows the interfaces as they
 * are now, not as they were at the start: a login service starts before the Wi-Fi is up, and DHCP
 * hands out a new address. They are read again when a request finds them older than a few seconds,
 * at once when a request names an IPv4 address with this port that is not yet known (so the phone
 * is not refused in between), and for pairing and status. The same rules as at the start decide what
 * is accepted. One object is refilled in place, so a check that reads `hosts`, then `origins` sees
 * one state.
 */
export class LiveOriginPolicy {
  private readonly policy: OriginPolicy;
  private readAt = 0;
  private missWindowStart = 0;
  private missReads = 0;

  constructor(
    private config: Config,
    private port: number,
  ) {
    this.policy = { hosts: new RecheckedHosts((host) => this.readForMiss(host)), origins: [], offered: [] };
    this.read();
  }

  /** The configuration or the listening port changed. */
  reconfigure(config: Config, port: number): void {
    this.config = config;
    this.port = port;
    this.read();
  }

  /** For each request's Host and Origin check. */
  current(): OriginPolicy {
    if (this.config.lan && Date.now() - this.readAt >= LAN_RECHECK_MS) this.read();
    return this.policy;
  }

  /** The offered origins as they are this moment (pairing, status): a copy. */
  origins(): string[] {
    if (this.config.lan) this.read();
    return [...this.policy.offered];
  }

  private read(): void {
    const next = originPolicy(this.config, this.port);
    this.policy.origins.splice(0, this.policy.origins.length, ...next.origins);
    this.policy.offered.splice(0, this.policy.offered.length, ...next.offered);
    this.policy.hosts.clear();
    for (const h of next.hosts) this.policy.hosts.add(h);
    this.readAt = Date.now();
  }

  /** Whether the interfaces were read again for an unknown Host (only an IPv4 address with this port can become one). */
  private readForMiss(host: string): boolean {
    const m = IPV4_HOST.exec(host);
    if (!this.config.lan || !m || Number(m[2]) !== this.port) return false;
    const t = Date.now();
    if (t - this.missWindowStart >= 1000) {
      this.missWindowStart = t;
      this.missReads = 0;
    }
    if (this.missReads >= MISS_READS_PER_SECOND) return false;
    this.missReads++;
    this.read();
    return true;
  }
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

/**
 * The accepted origins to list (status, the start log, the link a push fallback sends): all of them
 * but the loopback ones the socket does not listen on. Those stay accepted Hosts (a tunnel from
 * [::1] to the port arrives with it), but they are no address to open: nothing answers at [::1] on
 * a socket bound to 127.0.0.1, nor at 127.0.0.1 on one bound to ::1 or a network address.
 */
export function shownOrigins(origins: string[], boundHost: string): string[] {
  return origins.filter((o) => !isLoopbackOrigin(o) || servedOrigins([o], boundHost).length > 0);
}

/** 127.0.0.0/8, ::1 and localhost: addresses only this computer reaches. */
function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Whether a URL's host is this computer: a loopback address, one of its own addresses, or its own
 * name. A server there that does not answer is no sign of a lost internet connection.
 */
export function isThisComputer(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isLoopbackHost(host) || host === '0.0.0.0' || host === '::' || host === os.hostname().toLowerCase()) return true;
  return Object.values(os.networkInterfaces()).some((infos) => infos?.some((i) => i.address.toLowerCase() === host));
}

/** A plain-HTTP origin that only this computer can open. */
function isLoopbackOrigin(origin: string): boolean {
  const u = new URL(origin);
  return u.protocol === 'http:' && isLoopbackHost(u.hostname.replace(/^\[|\]$/g, ''));
}

/** Of the served origins, the plain-HTTP ones other computers on the network can open. */
export function networkOrigins(listening: string[]): string[] {
  return listening.filter((o) => o.startsWith('http://') && !isLoopbackOrigin(o));
}

/**
 * Where this computer opens the daemon (`errand expose`, the address a proxy forwards to): a
 * loopback origin the socket serves, else the network address `bind` names, which answers from
 * this computer too.
 */
export function thisComputerOrigin(listening: string[]): string | undefined {
  return listening.find(isLoopbackOrigin) ?? listening.find((o) => o.startsWith('http://'));
}

/** Where a daemon started with this configuration will answer this computer (none runs yet). */
export function configuredThisComputerOrigin(config: Config, port: number): string {
  const boundHost = config.lan ? '0.0.0.0' : config.bind;
  return thisComputerOrigin(servedOrigins(originPolicy(config, port).offered, boundHost)) ?? `http://127.0.0.1:${port}`;
}

/**
 * Said at start whenever the socket serves plain HTTP beyond this computer: LAN mode, or a `bind`
 * set to a network address, which serves the network just the same (SECURITY.md: loudly flagged).
 */
export function plainHttpOnNetworkWarning(lan: boolean, listening: string[]): string | undefined {
  if (lan)
    return 'LAN mode: plain HTTP on your network. Phones cannot get notifications, install the app or work offline without HTTPS; see `errand expose`.';
  const onNetwork = networkOrigins(listening);
  if (!onNetwork.length) return undefined;
  return (
    `Plain HTTP on your network at ${onNetwork.join('  ')} (the "bind" setting): anyone on the network can watch the traffic, and phones cannot get notifications, install the app or work offline without HTTPS. ` +
    'To answer this computer only, set "bind" to 127.0.0.1 (config.json or ERRAND_BIND) and restart; for a phone, see `errand expose`.'
  );
}

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
    if (isLoopbackOrigin(o)) continue;
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

const NO_NETWORK_HINT =
  'This address works only on this computer: a phone cannot open it. No network address found: connect ' +
  'this computer to your Wi-Fi, then run `errand pair` again.';

/** What to say beside a pairing code that only this computer can open, when it has a network. */
const LOOPBACK_ONLY_HINT =
  'This address works only on this computer: a phone cannot open it. To pair a phone, first run ' +
  '`errand expose tailscale` (private HTTPS through Tailscale) or `errand expose url <https-url>` ' +
  '(your own HTTPS proxy); on a trusted home network `errand expose lan` also works.';

/** Whether this computer has an address a phone could reach it on (a home network, a VPN or tailnet). */
function hasPhoneNetwork(): boolean {
  return lanCandidates().some((c) => phoneRank(c.address, c.interface) < 3);
}

/**
 * What to say beside a pairing code that only this computer can open. Without any network address
 * no setting helps (LAN mode may well be on already): the computer needs a network first.
 */
export function loopbackOnlyHint(): string {
  return hasPhoneNetwork() ? LOOPBACK_ONLY_HINT : NO_NETWORK_HINT;
}
