// How the phone reaches the daemon: the public origin in config.json (publicUrl, set by
// `errand expose tailscale` or by hand for the user's own proxy) and LAN mode.
import { ConfigError, updateConfigFile } from '../config/load.js';
import { homePaths } from '../config/paths.js';
import { controlCall, DaemonNotRunningError } from '../control/client.js';

const NOT_RUNNING =
  'The daemon is not running; it uses the new setting when it starts (`errand start`, or the login service).';

export const LAN_WARNING = [
  'WARNING: LAN mode serves Errand over plain HTTP on your local network.',
  '  - Anyone on the network can watch the traffic; use it only on a network you trust.',
  '  - Phones cannot install the app, get push notifications or work offline there:',
  '    browsers allow those only on HTTPS (or on this computer itself).',
  'For a secure address from anywhere, use `errand expose tailscale` instead.',
].join('\n');

export const FUNNEL_WARNING = [
  '!!! WARNING: Tailscale Funnel puts Errand on the PUBLIC INTERNET. !!!',
  'Anyone who finds the address can reach the daemon and try to pair or log in. Errand still',
  'demands a paired device token for everything, but this is the exposure the daemon was built',
  'to avoid. Prefer `errand expose tailscale` (your tailnet only) unless you really need Funnel.',
].join('\n');

/** Validate a public URL the user typed: https, no path, query or credentials. Returns the origin. */
export function normalizePublicUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new ConfigError(
      `"${input}" is not a URL; give the https address your proxy serves, like https://errand.example.com`,
    );
  }
  if (url.protocol !== 'https:')
    throw new ConfigError(
      `The public URL must start with https:// (got ${url.protocol}//): browsers allow the app's service worker and push only on HTTPS.`,
    );
  if (url.username || url.password) throw new ConfigError('The public URL must not contain a user name or password.');
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash) {
    throw new ConfigError(
      'The public URL must be an origin only (no path, query or #): Errand is served at the root of its address.',
    );
  }
  return url.origin;
}

export function setPublicUrl(home: string, url: string | undefined): void {
  updateConfigFile(home, (raw) => {
    if (url) raw.publicUrl = url;
    else delete raw.publicUrl;
  });
}

export function setLan(home: string, lan: boolean): void {
  updateConfigFile(home, (raw) => {
    if (lan) raw.lan = true;
    else delete raw.lan;
  });
}

/**
 * After config.json changed: does the running daemon answer at the new origin yet? Returns a
 * sentence for the user. `expectOrigin` undefined means "should no longer answer at `goneOrigin`".
 */
export async function daemonFollowUp(
  home: string,
  change: { expectOrigin?: string; goneOrigin?: string },
  waitMs = 1500,
): Promise<string> {
  const socket = homePaths(home).socket;
  const deadline = Date.now() + waitMs;
  // Ask the daemon to re-read config.json now (it also notices on its own, within seconds).
  try {
    await controlCall(socket, 'config.reload', {}, { timeoutMs: 3000 });
  } catch (err) {
    if (err instanceof DaemonNotRunningError) return NOT_RUNNING;
    // An older daemon without config.reload, or an invalid config: the status check below tells.
  }
  for (;;) {
    let origins: string[] | undefined;
    try {
      const status = (await controlCall(socket, 'status', {}, { timeoutMs: 2000 })) as
        | { origins?: unknown }
        | undefined;
      origins = Array.isArray(status?.origins) ? status.origins.filter((o): o is string => typeof o === 'string') : [];
    } catch {
      return NOT_RUNNING;
    }
    const done = change.expectOrigin
      ? origins.includes(change.expectOrigin)
      : change.goneOrigin
        ? !origins.includes(change.goneOrigin)
        : false; // nothing to check: restart
    if (done) return 'The running daemon has picked up the change.';
    if (Date.now() >= deadline) {
      return (
        'Restart the daemon so it uses the new setting: `systemctl --user restart errand` (Linux service), ' +
        '`launchctl kickstart -k gui/$(id -u)/dev.errand.daemon` (macOS service), or Ctrl-C and `errand start`.'
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
