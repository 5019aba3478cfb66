// `errand expose`: make the daemon reachable from the phone away from this computer.
import { ConfigError, loadConfig, readConfigFile } from '../../config/load.js';
import { homePaths } from '../../config/paths.js';
import {
  daemonFollowUp,
  FUNNEL_WARNING,
  LAN_WARNING,
  normalizePublicUrl,
  setLan,
  setPublicUrl,
} from '../../remote/index.js';
import {
  exposeTailscale,
  TailscaleError,
  tailscaleBinary,
  tailscaleServing,
  unexposeTailscale,
} from '../../remote/tailscale.js';
import { configuredThisComputerOrigin, thisComputerOrigin } from '../../server/origins.js';
import { type DaemonReach, lanServed, networkAddressesAnswering, runningReach } from '../../service/reach.js';
import { execRunner, formatCommand, type Runner } from '../../service/runner.js';
import type { CliCommand, CliIO } from '../command.js';
import { RESTART } from '../restart-hint.js';
import { forTerminal, linesForTerminal } from '../terminal-text.js';

export interface ExposeCommandDeps {
  run?: Runner;
  platform?: NodeJS.Platform;
  /** How long to wait for a running daemon to pick up the change (tests: 0). */
  followUpMs?: number;
}

const HELP = `Usage: errand expose [status | tailscale | url <https-url> | lan | off]

Makes Errand reachable from your phone when it is not on this computer. The phone app needs
HTTPS for install, notifications and offline use; plain http only works on this computer.

  errand expose                 show how Errand is reachable now
  errand expose tailscale       serve Errand over HTTPS inside your tailnet with Tailscale Serve
                                (no open ports, a real certificate); saves the https address as
                                publicUrl, which pairing QR codes then use
      --funnel                  use Tailscale Funnel instead: the PUBLIC internet (asks first;
                                --yes to skip the question)
      --force                   replace another service Tailscale Serve has on https :443
  errand expose url <https-url> use your own reverse proxy (Caddy, cloudflared, nginx …) that
                                forwards that https address to http://127.0.0.1:<port>
  errand expose lan             serve plain HTTP on your local network (degraded: no install,
                                no push, no offline; traffic is not encrypted)
  errand expose off             undo all of it: stop Tailscale Serve for Errand, remove publicUrl,
                                turn LAN mode off; back to this computer only

Options: --json prints the result as JSON.`;

/** The running daemon's port (it may have been started with --port); config.json's when none runs. */
async function currentPort(home: string, env: NodeJS.ProcessEnv): Promise<number> {
  return (await runningReach(home))?.port ?? loadConfig({ home, env }).port;
}

/**
 * Where this computer opens the daemon (and a proxy forwards to): what the running socket serves,
 * else what `bind` will serve. Under `bind: "::1"` or a network address nothing answers at 127.0.0.1.
 */
function thisComputer(home: string, env: NodeJS.ProcessEnv, reach: DaemonReach | undefined): string {
  if (reach) return thisComputerOrigin(reach.listening) ?? `http://127.0.0.1:${reach.port}`;
  const config = loadConfig({ home, env });
  return configuredThisComputerOrigin(config, config.port);
}

/** An error's text for the terminal: it may quote tailscale's output, what was typed, or keys and bytes of config.json. */
const shown = (text: string) => linesForTerminal(text).join('\n');

const NOT_RUNNING_NOTE = 'The daemon is not running: this is what config.json gives it when it starts.';

export function makeExposeCommand(deps: ExposeCommandDeps = {}): CliCommand {
  return {
    name: 'expose',
    summary: 'Reach Errand from your phone anywhere (Tailscale, your own proxy, or LAN)',
    help: HELP,
    options: {
      funnel: { type: 'boolean' },
      force: { type: 'boolean' },
      yes: { type: 'boolean', short: 'y' },
    },
    allowPositionals: true,
    async run(args, io) {
      const json = Boolean(args.values.json);
      const [mode = 'status', ...rest] = args.positionals;
      const tdeps = { run: deps.run ?? execRunner, env: io.env, platform: deps.platform };
      const followUpMs = deps.followUpMs ?? 1500;
      const say = (human: string, value: Record<string, unknown>) =>
        io.out(json ? JSON.stringify(value, null, 2) : human);
      try {
        if (mode === 'status') {
          const raw = readConfigFile(homePaths(args.home).config);
          const reach = await runningReach(args.home);
          const port = reach?.port ?? loadConfig({ home: args.home, env: io.env }).port;
          const ts = await tailscaleServing(tdeps, port);
          const publicUrl = typeof raw.publicUrl === 'string' ? raw.publicUrl : undefined;
          const lanInConfig = raw.lan === true;
          const served = reach ? lanServed(reach) : [];
          const lan = reach ? served.length > 0 : lanInConfig;
          const lines = [`This computer: ${thisComputer(args.home, io.env, reach)}`];
          lines.push(
            publicUrl
              ? `Public address: ${forTerminal(publicUrl)}`
              : 'Public address: none (run `errand expose tailscale`, or `errand expose url <https-url>` for your own proxy)',
          );
          if (ts.installed) {
            lines.push(
              ts.serving
                ? `Tailscale Serve: on${ts.funnel ? ' with FUNNEL (public internet)' : ''}, ${forTerminal(ts.url ?? '')}`
                : `Tailscale Serve: off${ts.running ? '' : ' (Tailscale is not connected)'}`,
            );
          }
          if (reach && served.length)
            lines.push(
              `LAN mode: on, plain HTTP at ${served.join('  ')} (no install, push or offline on the phone)${lanInConfig ? '' : '; not set in config.json: the daemon was started with --lan, or a restart turns it off'}`,
            );
          else if (reach && lanInConfig)
            lines.push(
              'LAN mode: on in config.json, but the running daemon serves this computer only until it restarts',
            );
          else if (lan) lines.push('LAN mode: on (plain HTTP; no install, push or offline on the phone)');
          if (!reach) lines.push(NOT_RUNNING_NOTE);
          say(lines.join('\n'), {
            port,
            publicUrl: publicUrl ?? null,
            lan,
            lanAddresses: served,
            running: Boolean(reach),
            tailscale: ts,
          });
          return 0;
        }
        if (mode === 'tailscale')
          return await tailscale(
            args.home,
            Boolean(args.values.funnel),
            Boolean(args.values.force),
            Boolean(args.values.yes),
          );
        if (mode === 'url') {
          if (rest.length !== 1) {
            io.err('Give the https address of your proxy: `errand expose url https://errand.example.com`.');
            return 2;
          }
          let url: string;
          try {
            url = normalizePublicUrl(rest[0]);
          } catch (err) {
            // A bad address is a usage error (2), like a missing one.
            if (!(err instanceof ConfigError)) throw err;
            io.err(shown(err.message));
            return 2;
          }
          setPublicUrl(args.home, url);
          const reach = await runningReach(args.home);
          const port = reach?.port ?? loadConfig({ home: args.home, env: io.env }).port;
          const target = thisComputer(args.home, io.env, reach);
          const follow = await daemonFollowUp(args.home, { expectOrigin: url }, followUpMs);
          say(
            `Saved publicUrl = ${url}.\nPoint your proxy at ${target} (keep the Host header), then pair your phone with \`errand pair\`.\n${follow}`,
            { publicUrl: url, port, daemon: follow },
          );
          return 0;
        }
        if (mode === 'lan') {
          io.err(LAN_WARNING);
          setLan(args.home, true);
          const follow = await daemonFollowUp(args.home, {}, 0);
          say(`LAN mode is on in config.json (you can also start once with \`errand start --lan\`).\n${follow}`, {
            lan: true,
            daemon: follow,
          });
          return 0;
        }
        if (mode === 'off') {
          const raw = readConfigFile(homePaths(args.home).config);
          const port = await currentPort(args.home, io.env);
          const oldUrl = typeof raw.publicUrl === 'string' ? raw.publicUrl : undefined;
          const ts = await unexposeTailscale(tdeps, { port });
          setPublicUrl(args.home, undefined);
          setLan(args.home, false);
          const follow =
            oldUrl || raw.lan === true
              ? await daemonFollowUp(args.home, { goneOrigin: oldUrl }, oldUrl ? followUpMs : 0)
              : '';
          const still = await whatStillListens(args.home, io.env, port);
          const lines = [
            ts.removed ? 'Tailscale Serve no longer serves Errand.' : (ts.note ?? ''),
            oldUrl ? `Removed publicUrl (${forTerminal(oldUrl)}).` : 'No publicUrl was set.',
            still.sentence,
            // The restart advice is in still.sentence when a restart is what is left to do.
            still.thisComputerOnly || !/^Restart the daemon/.test(follow) ? follow : '',
          ].filter(Boolean);
          say(lines.join('\n'), {
            tailscaleRemoved: ts.removed,
            commands: ts.commands,
            removedPublicUrl: oldUrl ?? null,
            thisComputerOnly: still.thisComputerOnly,
            stillServes: still.addresses,
            daemon: follow,
          });
          return 0;
        }
        io.err(
          'errand expose: unknown way to expose Errand. Use one of: tailscale, url <https-url>, lan, off (see `errand expose --help`).',
        );
        return 2;
      } catch (err) {
        return fail(io, err);
      }

      async function tailscale(home: string, funnel: boolean, force: boolean, yes: boolean): Promise<number> {
        if (!tailscaleBinary(io.env, deps.platform)) {
          io.err(
            'The `tailscale` command is not installed. Install Tailscale (https://tailscale.com/download) on this computer and your phone, ' +
              'log in on both, then run `errand expose tailscale` again. Or use your own HTTPS proxy: `errand expose url <https-url>`.',
          );
          return 1;
        }
        if (funnel) {
          io.err(FUNNEL_WARNING);
          if (!yes) {
            const ok = io.interactive && (await io.confirm('Put Errand on the public internet with Tailscale Funnel?'));
            if (!ok) {
              io.err(
                io.interactive ? 'Not changed.' : 'Not changed: add --yes to confirm Funnel when not at a terminal.',
              );
              return 1;
            }
          }
        }
        const reach = await runningReach(home);
        const port = reach?.port ?? loadConfig({ home, env: io.env }).port;
        // Forwarded to where the daemon answers on loopback: [::1], not 127.0.0.1, under `bind: "::1"`.
        const here = thisComputer(home, io.env, reach);
        const target = here.startsWith('http://[::1]:') ? here : undefined;
        const result = await exposeTailscale(tdeps, { port, funnel, force, ...(target ? { target } : {}) });
        setPublicUrl(home, result.url);
        const follow = await daemonFollowUp(home, { expectOrigin: result.url }, followUpMs);
        const lines = [
          `Errand is served at ${result.url} ${funnel ? 'on the PUBLIC INTERNET (Tailscale Funnel)' : 'to the devices in your tailnet (Tailscale Serve)'}.`,
          ...(result.replaced ? [`(It replaced ${result.replaced} on that address.)`] : []),
          `Saved it as publicUrl; pairing QR codes use it. Pair your phone with \`errand pair\` (the phone needs Tailscale on).`,
          follow,
          'Undo with `errand expose off`.',
        ];
        say(lines.join('\n'), {
          url: result.url,
          funnel,
          commands: result.commands.map((c) => formatCommand(c)),
          daemon: follow,
        });
        return 0;
      }
    },
  };
}

const LOOPBACK_BINDS = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * After `expose off`: is Errand really reachable from this computer only? The running daemon keeps
 * its socket until it restarts (and keeps --lan from its command line), and `bind` is separate.
 */
async function whatStillListens(
  home: string,
  env: NodeJS.ProcessEnv,
  port: number,
): Promise<{ thisComputerOnly: boolean; addresses: string[]; sentence: string }> {
  const bind = loadConfig({ home, env }).bind;
  const bindNote = LOOPBACK_BINDS.has(bind)
    ? ''
    : ` "bind" is ${bind} (config.json or ERRAND_BIND), which listens beyond this computer whatever \`errand expose\` says: set it to 127.0.0.1, then restart the daemon.`;
  const reach = await runningReach(home);
  if (!reach) {
    return {
      thisComputerOnly: !bindNote,
      addresses: [],
      sentence: bindNote
        ? `The daemon is not running.${bindNote}`
        : 'Errand will be reachable from this computer only when it starts.',
    };
  }
  const addresses = await networkAddressesAnswering(port);
  if (!addresses.length)
    return { thisComputerOnly: true, addresses, sentence: 'Errand is reachable from this computer only now.' };
  const where = `The running daemon still answers on your network at ${addresses.join(', ')} (port ${port})`;
  // Reloaded with lan off in config.json, it still serves LAN origins only because of --lan.
  const why = lanServed(reach).length
    ? ': it was started with --lan, which config.json cannot turn off. Stop it (Ctrl-C in its terminal) and start it again without --lan.'
    : bindNote
      ? `.${bindNote}`
      : ` until it restarts. Restart it now: ${RESTART}.`;
  return { thisComputerOnly: false, addresses, sentence: where + why };
}

function fail(io: CliIO, err: unknown): number {
  if (err instanceof TailscaleError) {
    io.err(`${shown(err.message)}\n${err.fix}`);
    return 1;
  }
  if (err instanceof ConfigError) {
    io.err(shown(err.message));
    return 1;
  }
  throw err;
}

export const exposeCommand = makeExposeCommand();
