// Tailscale Serve in front of the daemon: HTTPS with a real certificate inside the user's tailnet,
// no open ports. Funnel (the public internet) only when asked for explicitly.
import fs from 'node:fs';
import { type Runner, which } from '../service/runner.js';

export interface TailscaleDeps {
  run: Runner;
  env: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
}

const MAC_APP_CLI = '/Applications/Tailscale.app/Contents/MacOS/Tailscale';

/** The tailscale CLI, or undefined when it is not installed. */
export function tailscaleBinary(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  const onPath = which('tailscale', env);
  if (onPath) return onPath;
  if (platform === 'darwin' && fs.existsSync(MAC_APP_CLI)) return MAC_APP_CLI;
  return undefined;
}

export class TailscaleError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

export interface TailscaleSelf {
  backendState: string;
  /** The machine's MagicDNS name without the trailing dot, e.g. laptop.tail1234.ts.net. */
  dnsName?: string;
  /** Names Tailscale can get certificates for; empty when HTTPS is off for the tailnet. */
  certDomains?: string[];
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Parse `tailscale status --json`. */
export function parseStatus(text: string): TailscaleSelf {
  let json: Record<string, unknown> | undefined;
  try {
    json = asRecord(JSON.parse(text));
  } catch {
    json = undefined;
  }
  if (!json)
    throw new TailscaleError(
      '`tailscale status --json` did not print JSON.',
      'Check that Tailscale works with `tailscale status`.',
    );
  const self = asRecord(json.Self);
  const dns = typeof self?.DNSName === 'string' ? self.DNSName.replace(/\.$/, '') : '';
  const certDomains = Array.isArray(json.CertDomains)
    ? json.CertDomains.filter((d): d is string => typeof d === 'string')
    : undefined;
  return {
    backendState: typeof json.BackendState === 'string' ? json.BackendState : 'Unknown',
    dnsName: dns || undefined,
    certDomains,
  };
}

export interface ServeState {
  /** Where the HTTPS :443 root handler proxies to, when there is one. */
  proxy443?: string;
  funnel443: boolean;
}

/** Parse `tailscale serve status --json` for the :443 root handler of this machine. */
export function parseServeStatus(text: string, dnsName: string | undefined): ServeState {
  let json: Record<string, unknown> | undefined;
  try {
    json = asRecord(JSON.parse(text || '{}'));
  } catch {
    json = undefined;
  }
  const web = asRecord(json?.Web) ?? {};
  const funnel = asRecord(json?.AllowFunnel) ?? {};
  const key = Object.keys(web).find((k) => (dnsName ? k === `${dnsName}:443` : k.endsWith(':443')));
  const handlers = key ? asRecord(asRecord(web[key])?.Handlers) : undefined;
  const root = asRecord(handlers?.['/']);
  return {
    proxy443: typeof root?.Proxy === 'string' ? root.Proxy : undefined,
    funnel443: Boolean(key && funnel[key] === true),
  };
}

function tailscaleFix(stderr: string): string {
  if (/access denied|permission denied|operator/i.test(stderr)) {
    return 'Let your user change Tailscale settings once with `sudo tailscale set --operator=$USER`, then run this again.';
  }
  if (/https|cert/i.test(stderr)) {
    return 'Enable HTTPS certificates for your tailnet (Tailscale admin console → DNS → HTTPS Certificates), then run this again.';
  }
  if (/funnel/i.test(stderr))
    return 'Funnel must be allowed for this machine in your tailnet policy (nodeAttrs "funnel").';
  return 'Check `tailscale status`; fix what it reports and run this again.';
}

/** True when a Serve proxy target is the daemon on loopback at this port (`bind` 127.0.0.1 or ::1). */
export function proxiesTo(target: string | undefined, port: number): boolean {
  const m = target ? /^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):(\d+)\/?$/.exec(target) : null;
  return m?.[2] === String(port);
}

export interface ExposeResult {
  url: string;
  commands: string[][];
  replaced?: string;
}

async function call(deps: TailscaleDeps, bin: string, args: string[], commands: string[][], timeoutMs = 60_000) {
  commands.push(['tailscale', ...args]);
  return deps.run(bin, args, { env: deps.env, timeoutMs });
}

async function self(deps: TailscaleDeps, bin: string, commands: string[][]): Promise<TailscaleSelf> {
  const r = await call(deps, bin, ['status', '--json'], commands, 15_000);
  if (r.code !== 0 && !r.stdout.trim()) {
    throw new TailscaleError(
      `\`tailscale status\` failed: ${(r.stderr || `exit code ${r.code}`).trim()}`,
      'Start Tailscale and log in with `tailscale up`, then run this again.',
    );
  }
  return parseStatus(r.stdout);
}

async function serveState(
  deps: TailscaleDeps,
  bin: string,
  dnsName: string | undefined,
  commands: string[][],
): Promise<ServeState> {
  const r = await call(deps, bin, ['serve', 'status', '--json'], commands, 15_000);
  return r.code === 0 ? parseServeStatus(r.stdout, dnsName) : { funnel443: false };
}

/**
 * Point Tailscale Serve's https://<machine>/ at the daemon and return that https origin.
 * Refuses to replace another service on :443 unless `force`.
 */
export async function exposeTailscale(
  deps: TailscaleDeps,
  /** `target`: where this computer opens the daemon (http://[::1]:<port> under `bind: "::1"`). */
  opts: { port: number; funnel?: boolean; force?: boolean; target?: string },
): Promise<ExposeResult> {
  const bin = tailscaleBinary(deps.env, deps.platform);
  if (!bin) {
    throw new TailscaleError(
      'The `tailscale` command is not installed.',
      'Install Tailscale (https://tailscale.com/download) on this computer and your phone, log in on both, then run `errand expose tailscale` again.',
    );
  }
  const commands: string[][] = [];
  const me = await self(deps, bin, commands);
  if (me.backendState !== 'Running') {
    throw new TailscaleError(
      `Tailscale is not connected (state: ${me.backendState}).`,
      'Run `tailscale up` (or open the Tailscale app and log in), then run this again.',
    );
  }
  if (!me.dnsName) {
    throw new TailscaleError(
      'This machine has no MagicDNS name.',
      'Turn on MagicDNS in the Tailscale admin console (DNS page), then run this again.',
    );
  }
  if (me.certDomains && me.certDomains.length === 0) {
    throw new TailscaleError(
      'HTTPS certificates are off for your tailnet.',
      'Enable HTTPS certificates in the Tailscale admin console (DNS → HTTPS Certificates), then run this again.',
    );
  }
  const target = opts.target ?? `http://127.0.0.1:${opts.port}`;
  const before = await serveState(deps, bin, me.dnsName, commands);
  const ours = (p: string | undefined) => proxiesTo(p, opts.port);
  if (before.proxy443 && !ours(before.proxy443) && !opts.force) {
    throw new TailscaleError(
      `Tailscale Serve already sends https://${me.dnsName}/ to ${before.proxy443}.`,
      'Run `errand expose tailscale --force` to point it at Errand instead (that other service stops being served there).',
    );
  }
  // Serve only: if Funnel was on for :443 from before, turn it off so the daemon is not public.
  if (!opts.funnel && before.funnel443) await call(deps, bin, ['funnel', '--https=443', 'off'], commands);
  const verb = opts.funnel ? 'funnel' : 'serve';
  const r = await call(deps, bin, [verb, '--bg', '--yes', '--https=443', target], commands, 120_000);
  if (r.code !== 0) {
    const msg = (r.stderr || r.stdout || `exit code ${r.code}`).trim();
    throw new TailscaleError(`\`tailscale ${verb}\` failed: ${msg}`, tailscaleFix(msg));
  }
  return {
    url: `https://${me.dnsName}`,
    commands,
    replaced: before.proxy443 && !ours(before.proxy443) ? before.proxy443 : undefined,
  };
}

/** Stop serving the daemon through Tailscale (only if :443 points at it); Funnel too. */
export async function unexposeTailscale(
  deps: TailscaleDeps,
  opts: { port: number },
): Promise<{ removed: boolean; commands: string[][]; note?: string }> {
  const bin = tailscaleBinary(deps.env, deps.platform);
  const commands: string[][] = [];
  if (!bin) return { removed: false, commands, note: 'Tailscale is not installed; nothing to undo there.' };
  let dnsName: string | undefined;
  try {
    dnsName = (await self(deps, bin, commands)).dnsName;
  } catch {
    dnsName = undefined;
  }
  const state = await serveState(deps, bin, dnsName, commands);
  if (!state.proxy443) return { removed: false, commands, note: 'Tailscale Serve had nothing on https :443.' };
  if (!proxiesTo(state.proxy443, opts.port))
    return {
      removed: false,
      commands,
      note: `Tailscale Serve's :443 goes to ${state.proxy443}, not to Errand; left as it is.`,
    };
  if (state.funnel443) await call(deps, bin, ['funnel', '--https=443', 'off'], commands);
  const after = state.funnel443 ? await serveState(deps, bin, dnsName, commands) : state;
  if (after.proxy443) {
    const r = await call(deps, bin, ['serve', '--https=443', 'off'], commands);
    if (r.code !== 0) {
      const msg = (r.stderr || r.stdout).trim();
      throw new TailscaleError(`\`tailscale serve --https=443 off\` failed: ${msg}`, tailscaleFix(msg));
    }
  }
  return { removed: true, commands };
}

/** Is the daemon served over Tailscale right now (for doctor)? */
export async function tailscaleServing(
  deps: TailscaleDeps,
  port: number,
): Promise<{ installed: boolean; running: boolean; url?: string; serving: boolean; funnel: boolean }> {
  const bin = tailscaleBinary(deps.env, deps.platform);
  if (!bin) return { installed: false, running: false, serving: false, funnel: false };
  const commands: string[][] = [];
  let me: TailscaleSelf;
  try {
    me = await self(deps, bin, commands);
  } catch {
    return { installed: true, running: false, serving: false, funnel: false };
  }
  if (me.backendState !== 'Running') return { installed: true, running: false, serving: false, funnel: false };
  const state = await serveState(deps, bin, me.dnsName, commands);
  const serving = proxiesTo(state.proxy443, port);
  return {
    installed: true,
    running: true,
    url: me.dnsName ? `https://${me.dnsName}` : undefined,
    serving,
    funnel: serving && state.funnel443,
  };
}
