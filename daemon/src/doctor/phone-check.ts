// Reaching Errand from the phone: the address it is served at (HTTPS, LAN or this computer only)
// and what push notifications need (the keys and the contact address).
import fs from 'node:fs';
import { isIPv6 } from 'node:net';
import type { Config } from '../config/schema.js';
import { SUBJECT_FIX, vapidSubject } from '../push/subject.js';
import { tailscaleServing } from '../remote/tailscale.js';
import { thisComputerOrigin } from '../server/origins.js';
import { lanServed, reachFromStatus } from '../service/reach.js';
import type { Runner } from '../service/runner.js';
import { withoutUrlCredentials } from '../util/url-credentials.js';
import type { Check } from './check.js';
import type { DaemonStatus } from './daemon-check.js';

/** A `bind` only this computer can reach (config/schema.ts accepts IP literals and localhost). */
const LOOPBACK_BIND = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;

export async function checkOrigin(
  config: Config,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
  run: Runner,
  running: DaemonStatus | undefined,
): Promise<Check> {
  const title = 'Phone access';
  // The running daemon says where it answers (it may run with --port or --lan); config.json only
  // says where it will answer when it starts.
  const reach = running && reachFromStatus(running);
  const port = reach?.port ?? config.port;
  // Stopped, it will listen where `bind` says: a network address there is plain HTTP, as LAN mode.
  const bound = `http://${isIPv6(config.bind) ? `[${config.bind}]` : config.bind}:${port}`;
  const bindOnNetwork = !LOOPBACK_BIND.test(config.bind);
  const lan = reach ? lanServed(reach).length > 0 : config.lan || bindOnNetwork;
  const ts = await tailscaleServing({ run, env, platform }, port).catch(() => undefined);
  if (config.publicUrl) {
    const publicUrl = withoutUrlCredentials(config.publicUrl);
    if (/\.ts\.net$/i.test(new URL(config.publicUrl).hostname) && ts?.installed && !ts.serving) {
      return {
        id: 'origin',
        title,
        status: 'warn',
        detail: `publicUrl is ${publicUrl}, but Tailscale Serve does not send it to Errand`,
        fix: 'Run `errand expose tailscale` again.',
      };
    }
    if (ts?.funnel) {
      return {
        id: 'origin',
        title,
        status: 'warn',
        detail: `${publicUrl} is on the public internet (Tailscale Funnel)`,
        fix: 'Unless you need it, run `errand expose tailscale` (without --funnel) to keep it inside your tailnet.',
      };
    }
    return { id: 'origin', title, status: 'ok', detail: `the phone uses ${publicUrl} (HTTPS)` };
  }
  if (lan) {
    return {
      id: 'origin',
      title,
      status: 'warn',
      detail: reach
        ? `LAN mode over plain HTTP (${lanServed(reach).join(', ')}): no app install, push or offline on the phone`
        : config.lan
          ? 'LAN mode over plain HTTP: no app install, push or offline on the phone'
          : `plain HTTP at ${bound} (the "bind" setting): no app install, push or offline on the phone`,
      fix: 'Run `errand expose tailscale` (or `errand expose url <https-url>` for your own proxy) for a secure address.',
    };
  }
  return {
    id: 'origin',
    title,
    status: 'warn',
    detail: `only this computer can open Errand (${reach ? (thisComputerOrigin(reach.listening) ?? `http://127.0.0.1:${port}`) : bound})`,
    fix: ts?.installed
      ? 'Run `errand expose tailscale` to reach it securely from your phone.'
      : 'Install Tailscale and run `errand expose tailscale`, or put an HTTPS proxy in front and run `errand expose url <https-url>`.',
  };
}

export function checkPushKeys(vapid: string, daemonRunning: boolean): Check {
  if (fs.existsSync(vapid)) return { id: 'push', title: 'Push keys', status: 'ok', detail: 'present' };
  return {
    id: 'push',
    title: 'Push keys',
    status: 'warn',
    detail: `missing (${vapid})`,
    fix: daemonRunning
      ? 'Restart the daemon; it creates the keys when it starts.'
      : 'They are created when the daemon first starts: run `errand start`.',
  };
}

export function checkPushSubject(config: Config): Check {
  const s = vapidSubject(config);
  const title = 'Push contact';
  if (!s.problem) return { id: 'pushSubject', title, status: 'ok', detail: s.subject };
  return { id: 'pushSubject', title, status: 'warn', detail: s.problem, fix: SUBJECT_FIX };
}
