// `errand connectors`: list, add, remove MCP servers, and accept changed tool descriptions.
// The exact launch command is shown before a connector is enabled, then each tool's text; exactly
// the text shown is pinned (the daemon offers no tool whose text is not pinned). Values for its
// environment and headers go to secrets.json (0600), and config.json keeps only their names.

import fs from 'node:fs';
import path from 'node:path';
import { readConfigFile, updateConfigFile } from '../../config/load.js';
import { homePaths } from '../../config/paths.js';
import { ConnectorConfig } from '../../config/schema.js';
import { controlCall, DaemonNotRunningError } from '../../control/client.js';
import type {
  ConnectorToolText,
  ConnectorToolView,
  ControlMethod,
  ControlParams,
  ControlResult,
} from '../../control/protocol.js';
import { connectorCwd, launchLine } from '../../tools/connectors/connector.js';
import { PinStore, pinsFile } from '../../tools/connectors/pins.js';
import { type ProbeResult, probeConnector } from '../../tools/connectors/probe.js';
import { preparePrivateFolder, SecretStore } from '../../tools/connectors/secrets.js';
import { canonicalJson } from '../../tools/util.js';
import { issueSentence } from '../../util/issue-words.js';
import { basicAuthOf, hasUrlCredentials, withoutUrlCredentials } from '../../util/url-credentials.js';
import type { CliCommand, CliIO } from '../command.js';
import { forTerminal, linesForTerminal } from '../terminal-text.js';
import { reloadDaemon } from './roots.js';

type Status = {
  name: string;
  transport: string;
  status: string;
  reason?: string;
  tools: number;
  changedTools?: string[];
  launch: string;
};

const clean = forTerminal;

async function daemonCall<M extends ControlMethod>(
  home: string,
  method: M,
  params: ControlParams<M> = {} as ControlParams<M>,
): Promise<ControlResult<M> | undefined> {
  try {
    return await controlCall(homePaths(home).socket, method, params, { timeoutMs: 15_000 });
  } catch (err) {
    if (err instanceof DaemonNotRunningError) return undefined;
    throw err;
  }
}

function pairs(values: unknown, what: string): Record<string, string> {
  const list = Array.isArray(values) ? values : values === undefined ? [] : [values];
  const out: Record<string, string> = {};
  for (const v of list) {
    const s = String(v);
    const eq = s.indexOf('=');
    if (eq < 1) throw new Error(`--${what} takes NAME=VALUE (got "${s}")`);
    out[s.slice(0, eq)] = s.slice(eq + 1);
  }
  return out;
}

/**
 * An MCP server over HTTP has an http:// or https:// address (Errand speaks nothing else to it):
 * another one is a usage error, said before anything is saved. The address is not quoted back, as
 * it may hold a password.
 */
function connectorUrlProblem(url: string): string | undefined {
  const wanted =
    '--url takes the http:// or https:// address of an MCP server (like https://mcp.example.com/mcp, or http://127.0.0.1:8080/mcp on this computer)';
  if (!URL.canParse(url)) return `${wanted}; this is not an address.`;
  const scheme = new URL(url).protocol;
  if (scheme === 'http:' || scheme === 'https:') return undefined;
  return `${wanted}; this one starts with "${forTerminal(scheme.slice(0, 20))}".`;
}

/**
 * `url` without its user name and password, which go into `headers` as Basic auth (said on the
 * terminal), or null after saying why they cannot.
 */
function loginFromUrl(url: string, headers: Record<string, string>, io: CliIO): string | null {
  if (!URL.canParse(url) || !hasUrlCredentials(url)) return url; // the config check names a bad URL
  const plain = withoutUrlCredentials(url);
  let login: string | undefined;
  try {
    login = basicAuthOf(new URL(url));
  } catch {
    io.err(`errand connectors: the user name or password in the URL is not valid (a % must start an escape like %40).`);
    return null;
  }
  if (Object.keys(headers).some((k) => k.toLowerCase() === 'authorization')) {
    io.err(
      `errand connectors: give the login once: either in the URL or as --header Authorization=…, not both (the URL is ${forTerminal(plain)}).`,
    );
    return null;
  }
  if (login) headers.Authorization = login;
  io.out('The user name and password in the URL are kept in secrets.json as its Authorization header (Basic).');
  return plain;
}

/**
 * The command and arguments as the daemon must run them, whatever folder it starts in: a program
 * path, and each argument naming an existing file (or, written as a path, a folder), made absolute
 * and real from `cwd`, the folder `add` runs in. Other arguments are left as typed.
 */
function absoluteLaunch(command: string, args: string[], cwd: string): { command: string; args: string[] } {
  const real = (p: string) => {
    try {
      return fs.realpathSync(path.resolve(cwd, p));
    } catch {
      return undefined;
    }
  };
  const asPath = (a: string) => a.includes('/') || a === '.' || a === '..';
  return {
    command: command.includes('/') ? (real(command) ?? path.resolve(cwd, command)) : command,
    args: args.map((a) => {
      if (!a || a.startsWith('-')) return a;
      const r = real(a);
      if (!r) return a;
      try {
        return fs.statSync(r).isFile() || asPath(a) ? r : a;
      } catch {
        return a;
      }
    }),
  };
}

/**
 * What to do when saving a connector met a file-system error (the home folder unwritable, a file
 * where it belongs, a full disk), or undefined for any other error.
 */
function saveProblem(err: unknown, home: string): string | undefined {
  const e = err as NodeJS.ErrnoException & { dest?: string };
  if (typeof e?.code !== 'string') return undefined;
  // A failed rename names its target in dest: the file being replaced.
  const file = e.dest ?? e.path;
  const where = forTerminal(typeof file === 'string' && file.startsWith(home) ? file : home);
  switch (e.code) {
    case 'EACCES':
    case 'EPERM':
      return `Errand may not write to ${where} (permission denied). Give your user access to it (\`ls -ld\` shows its owner), or set ERRAND_HOME to a folder you own, then run the command again.`;
    case 'EROFS':
      return `${where} is on a read-only file system. Make it writable, or set ERRAND_HOME to a writable folder, then run the command again.`;
    case 'EEXIST':
    case 'ENOTDIR':
      return `${where} (or a folder above it) is a file where Errand keeps a folder. Move that file away, then run the command again.`;
    case 'EISDIR':
      return `${where} is a folder where Errand keeps a file. Move that folder away, then run the command again.`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `The disk is full at ${where}. Free some space, then run the command again.`;
    default:
      return `Could not save it in ${forTerminal(home)} (${e.code}: ${forTerminal(e.message)}). Check that this folder can be written to (\`errand doctor\` looks at it), then run the command again.`;
  }
}

async function waitSettled(home: string, name: string): Promise<Status | undefined> {
  for (let i = 0; i < 100; i++) {
    const r = await daemonCall(home, 'connectors.list');
    const s = r?.connectors.find((c) => c.name === name);
    if (!r || (s && s.status !== 'starting')) return s;
    await new Promise((res) => setTimeout(res, 200));
  }
  return undefined;
}

/**
 * A status as shown: an HTTP connector's URL and any reason without a user name and password (a
 * stdio launch line stays exactly the command that runs).
 */
function forDisplay(s: Status): Status {
  return {
    ...s,
    ...(s.transport === 'http' ? { launch: withoutUrlCredentials(s.launch) } : {}),
    ...(s.reason !== undefined ? { reason: withoutUrlCredentials(s.reason) } : {}),
  };
}

/** A connector's status; every name and reason came from the server or its config, so each is cleaned. */
function describe(status: Status): string {
  const s = forDisplay(status);
  const changed = s.changedTools?.length
    ? `\n    tools disabled because they changed: ${s.changedTools.map(clean).join(', ')} (review with \`errand connectors accept ${clean(s.name)}\`)`
    : '';
  // A connected connector's reason says which tools were left out.
  const head =
    s.status === 'connected'
      ? `${clean(s.name)}  connected, ${s.tools} tools`
      : `${clean(s.name)}  ${s.status}${s.reason ? `: ${clean(s.reason)}` : ''}`;
  const leftOut = s.status === 'connected' && s.reason ? `\n    ${clean(s.reason)}` : '';
  return `${head}\n    ${clean(s.launch)}${leftOut}${changed}`;
}

const PARTS: Array<[keyof ConnectorToolText, string]> = [
  ['title', 'title'],
  ['description', 'description'],
  ['inputSchema', 'input schema'],
  ['annotations', 'annotations'],
];
const indent = (text: unknown) =>
  linesForTerminal(typeof text === 'string' ? text : JSON.stringify(text, null, 2)).map((l) => `      ${l}`);

/**
 * A tool as the person reviews it: all of its text as the model will see it, and for each changed
 * part what it was. `firstLook`: the connector is being added, so no tool has an earlier text.
 */
function review(connector: string, t: ConnectorToolView, firstLook = false): string[] {
  const before = t.accepted;
  const changed = before ? PARTS.filter(([k]) => canonicalJson(t[k]) !== canonicalJson(before[k])) : [];
  const what = firstLook
    ? 'new'
    : !before
      ? 'new, or not reviewed before (no earlier text to compare)'
      : changed.length
        ? `changed ${changed.map(([, label]) => label).join(', ')}`
        : 'changed only past what the model is shown (a description over 2,000 characters)';
  const lines = [`\n  ${clean(connector)}__${clean(t.name)}: ${what}`];
  for (const [key, label] of PARTS) {
    const was = changed.some(([k]) => k === key);
    if (t[key] === undefined && !was) continue;
    lines.push(`    ${label}${was ? ' (changed)' : ''}:`, ...indent(t[key] ?? '(none)'));
    if (was) lines.push(`    ${label} before:`, ...indent(before?.[key] ?? '(none)'));
  }
  return lines;
}

/** The text a pin was made from, kept beside it so a later change can be shown as what changed. */
const textOf = (t: ConnectorToolView): ConnectorToolText => ({
  ...(t.title !== undefined ? { title: t.title } : {}),
  description: t.description,
  inputSchema: t.inputSchema ?? {},
  ...(t.annotations !== undefined ? { annotations: t.annotations } : {}),
});

/**
 * Print the tools a check found, each as `accept` shows it, and what the bounds left out. What is
 * printed here is what gets pinned, so a later text differs from it visibly.
 */
function showTools(io: CliIO, name: string, probe: Extract<ProbeResult, { ok: true }>, firstLook: boolean): void {
  const n = probe.tools.length;
  if (firstLook) io.out(`It answered with ${n} tool${n === 1 ? '' : 's'}.`);
  if (n)
    io.out(
      `${firstLook ? '' : `${n} tool${n === 1 ? ' is' : 's are'} new or changed since pinned. `}Read them as the model will see them; exactly these texts are pinned:`,
    );
  for (const t of probe.tools) io.out(review(name, t, firstLook).join('\n'));
  if (probe.leftOut) io.out(`\n  ${clean(probe.leftOut)}`);
}

/** Pin exactly the tools shown (`keep`: pins made before that still hold), with their texts. */
async function pinShown(home: string, name: string, shown: ConnectorToolView[], keep = false): Promise<void> {
  const store = new PinStore(pinsFile(home));
  const pins = keep ? { ...store.get(name) } : {};
  const texts = keep ? { ...store.texts(name) } : {};
  for (const t of shown) {
    pins[t.name] = t.pin!;
    texts[t.name] = textOf(t);
  }
  await store.set(name, pins, texts);
}

async function list(home: string, io: CliIO, json: boolean): Promise<number> {
  const r = await daemonCall(home, 'connectors.list');
  let statuses: Status[];
  if (r) statuses = r.connectors;
  else {
    const raw = readConfigFile(homePaths(home).config);
    statuses = (Array.isArray(raw.connectors) ? raw.connectors : []).map((c) => {
      const cfg = ConnectorConfig.parse(c);
      return {
        name: cfg.name,
        transport: cfg.transport,
        status: cfg.enabled ? 'not running' : 'disabled',
        ...(cfg.enabled ? {} : { reason: cfg.disabledReason }),
        tools: 0,
        launch: launchLine(cfg),
      };
    });
  }
  if (json) io.out(JSON.stringify(statuses.map(forDisplay), null, 2));
  else if (!statuses.length)
    io.out('No connectors. Add one with `errand connectors add <name> -- <command> [args…]` or `--url <https://…>`.');
  else for (const s of statuses) io.out(describe(s));
  if (!r && !json) io.out('(The daemon is not running; statuses appear when it runs.)');
  return 0;
}

export const connectorsCommand: CliCommand = {
  name: 'connectors',
  summary: 'List, add, remove MCP connectors; accept changed tools',
  help: `Usage:
  errand connectors [list] [--json]
  errand connectors add <name> [--env NAME=VALUE]… [--read-only] [--yes] -- <command> [args…]
  errand connectors add <name> --url <url> [--header NAME=VALUE]… [--read-only] [--yes]
  errand connectors remove <name>
  errand connectors enable <name> [--yes]  try a disabled connector again and turn it on
  errand connectors accept <name> [--yes]

Before a connector is turned on, Errand starts it once and does the MCP handshake; when that
fails (program not found, address refused, connection closed, no answer in time) it is kept
disabled with the reason, and \`errand connectors enable <name>\` tries again once you fixed it.
A connector is an MCP server whose tools the agent may use, named <name>__<tool> (with a short
suffix when two tools would share a name). Its tools ask
for approval unless you add it with --read-only (a server's own read-only claim is not trusted)
or a policy rule allows them. The exact
command is shown before it is enabled. A stdio server runs in your home folder; a program path
and arguments naming existing files are stored as absolute paths, so it runs the same files
wherever Errand starts. --env and --header values are kept in secrets.json (0600),
never in config.json and never sent to the phone. When a server changes a tool's description,
input schema or annotations, that tool is disabled until you review it with \`errand connectors
accept <name>\`, which shows its whole text and accepts exactly that text. The first texts are
the ones add (or enable) prints: they are pinned as printed, and a tool whose text differs when
the daemon connects waits for the same review. Known secrets are taken out of tool texts before
they are shown, pinned or sent to the model. Characters a terminal would draw as nothing are
printed as escapes (\\u{…}); a tool whose text hides words in tag characters or variation
selectors, or whose name holds a known secret, is left out. A connector offers at most 100 tools,
8 KB of definition each and 64 KB in all; the status names what was left out.`,
  allowPositionals: true,
  options: {
    url: { type: 'string' },
    env: { type: 'string', multiple: true },
    header: { type: 'string', multiple: true },
    'read-only': { type: 'boolean' },
    disabled: { type: 'boolean' },
    yes: { type: 'boolean', short: 'y' },
  },
  async run(args, io) {
    const json = args.values.json === true;
    const [action = 'list', name, ...rest] = args.positionals;
    if (action === 'list') return list(args.home, io, json);
    if (!['add', 'remove', 'accept', 'enable'].includes(action)) {
      io.err('errand connectors: unknown action. Try `errand connectors --help`.');
      return 2;
    }
    if (!name) {
      io.err(`Usage: errand connectors ${action} <name>`);
      return 2;
    }
    const paths = homePaths(args.home);
    const secrets = new SecretStore(paths.secrets);

    if (action === 'add') {
      let env: Record<string, string>;
      let headers: Record<string, string>;
      try {
        env = pairs(args.values.env, 'env');
        headers = pairs(args.values.header, 'header');
      } catch (err) {
        io.err(`errand connectors: ${(err as Error).message}`);
        return 2;
      }
      const given = typeof args.values.url === 'string' ? args.values.url : undefined;
      if (!given && rest.length === 0) {
        io.err('errand connectors: give the server command after --, or --url for an HTTP server.');
        return 2;
      }
      const urlProblem = given === undefined ? undefined : connectorUrlProblem(given);
      if (urlProblem) {
        io.err(`errand connectors: ${urlProblem}`);
        return 2;
      }
      // fetch refuses a URL with a user name and password, and config.json, the status and the log
      // would show them: they become the Authorization header (a secret), as node:http would send them.
      const url = given && loginFromUrl(given, headers, io);
      if (url === null) return 2;
      const secretName = (kind: string, key: string) => `connector.${name}.${kind}.${key}`;
      const candidate = url
        ? {
            name,
            transport: 'http' as const,
            url,
            headers: Object.fromEntries(Object.keys(headers).map((k) => [k, secretName('header', k)])),
          }
        : {
            name,
            transport: 'stdio' as const,
            ...absoluteLaunch(rest[0]!, rest.slice(1), process.cwd()),
            env: Object.fromEntries(Object.keys(env).map((k) => [k, secretName('env', k)])),
          };
      const parsed = ConnectorConfig.safeParse({
        ...candidate,
        readOnly: args.values['read-only'] === true,
        enabled: args.values.disabled !== true,
      });
      if (!parsed.success) {
        const said = parsed.error.issues.map((i) => issueSentence(i, 'connector')).join('; ');
        io.err(`errand connectors: ${said}${/[.!?]$/.test(said) ? '' : '.'}`);
        return 2;
      }
      const raw = readConfigFile(paths.config);
      if ((Array.isArray(raw.connectors) ? raw.connectors : []).some((c) => (c as { name?: string }).name === name)) {
        io.err(`errand connectors: a connector named "${name}" exists; remove it first.`);
        return 1;
      }
      io.out(
        url
          ? `Errand will connect to: ${forTerminal(withoutUrlCredentials(launchLine(parsed.data)))}`
          : `Errand will run this command on this computer:\n  ${forTerminal(launchLine(parsed.data))}`,
      );
      if (candidate.transport === 'stdio') io.out(`It runs in ${forTerminal(connectorCwd())}.`);
      if (
        candidate.transport === 'stdio' &&
        canonicalJson([candidate.command, candidate.args]) !== canonicalJson([rest[0], rest.slice(1)])
      )
        io.out(
          `(Paths were made absolute from ${forTerminal(process.cwd())}, so it runs the same files wherever Errand starts.)`,
        );
      if (Object.keys(env).length)
        io.out(`with these environment variables from secrets.json: ${Object.keys(env).join(', ')}`);
      if (args.values.yes !== true && !(await io.confirm('Add and enable this connector?'))) {
        io.err(
          io.interactive
            ? 'Not added.'
            : 'errand connectors: not added; run again with --yes to confirm (the command is shown above).',
        );
        return 1;
      }
      const values: Record<string, string> = {};
      for (const [k, v] of Object.entries(env)) values[secretName('env', k)] = v;
      for (const [k, v] of Object.entries(headers)) values[secretName('header', k)] = v;
      // Try it before turning it on: a missing program or a closed port is said now, not found later.
      let failed: string | undefined;
      let shown: ConnectorToolView[] = [];
      if (parsed.data.enabled) {
        io.out('Starting it once to check the MCP handshake …');
        // The daemon takes the same secrets out of the texts, so its pins match these.
        const redact = [...secrets.values(), ...Object.values(values)];
        const probe = await probeConnector(parsed.data, values, { redact });
        if (!probe.ok) failed = `${probe.kind}: ${probe.reason}`;
        else {
          showTools(io, name, probe, true);
          shown = probe.tools;
          if (shown.length && args.values.yes !== true && !(await io.confirm('\nEnable these tools, as shown?'))) {
            io.err(
              io.interactive
                ? 'Not added.'
                : 'errand connectors: not added; run again with --yes after reading the tools above.',
            );
            return 1;
          }
        }
      }
      try {
        // Before the first `errand start` the home does not exist yet: made as start makes it.
        preparePrivateFolder(args.home);
        if (Object.keys(values).length) await secrets.set(values);
        // Pinned before the daemon sees the connector: it offers only these texts. A pin left from an
        // earlier connector of this name (removed while the daemon was stopped) is dropped.
        if (shown.length) await pinShown(args.home, name, shown);
        else await new PinStore(pinsFile(args.home)).remove(name);
        updateConfigFile(args.home, (c) => {
          c.connectors = [
            ...(Array.isArray(c.connectors) ? c.connectors : []),
            {
              ...candidate,
              ...(parsed.data.readOnly ? { readOnly: true } : {}),
              ...(parsed.data.enabled && !failed ? {} : { enabled: false }),
              ...(failed ? { disabledReason: failed.slice(0, 300) } : {}),
            },
          ];
        });
      } catch (err) {
        const problem = saveProblem(err, args.home);
        if (!problem) throw err;
        io.err(`errand connectors: ${problem} The connector was not added.`);
        return 1;
      }
      if (failed) {
        io.err(
          `errand connectors: "${name}" did not start (${forTerminal(withoutUrlCredentials(failed))}). It is saved but disabled; fix it, then run \`errand connectors enable ${name}\`.`,
        );
        await reloadDaemon(args.home, io);
        return 1;
      }
      io.out(`Added connector "${name}"; its tools will be named ${name}__<tool>.`);
      if (await reloadDaemon(args.home, io)) {
        const s = await waitSettled(args.home, name);
        if (s) io.out(describe(s));
        if (s?.status === 'connected')
          io.out(
            `The tool texts shown are pinned; a tool whose text differs from them, now or later, is not offered until you review it with \`errand connectors accept ${name}\`.`,
          );
      }
      return 0;
    }

    if (action === 'remove') {
      let found = false;
      updateConfigFile(args.home, (c) => {
        const all = Array.isArray(c.connectors) ? c.connectors : [];
        found = all.some((x) => (x as { name?: string }).name === name);
        c.connectors = all.filter((x) => (x as { name?: string }).name !== name);
      });
      if (!found) {
        io.err(`errand connectors: no connector named "${name}".`);
        return 1;
      }
      await secrets.removePrefix(`connector.${name}.`);
      await new PinStore(pinsFile(args.home)).remove(name);
      io.out(`Removed connector "${name}" and its secrets.`);
      await reloadDaemon(args.home, io);
      return 0;
    }

    if (action === 'enable') {
      const raw = readConfigFile(paths.config);
      const entry = (Array.isArray(raw.connectors) ? raw.connectors : []).find(
        (c) => (c as { name?: string }).name === name,
      );
      if (!entry) {
        io.err(`errand connectors: no connector named "${forTerminal(name)}".`);
        return 1;
      }
      const cfg = ConnectorConfig.parse({ ...(entry as object), enabled: true, disabledReason: undefined });
      io.out(`Starting "${name}" once to check the MCP handshake …`);
      const probe = await probeConnector(cfg, secrets.all(), { redact: secrets.values() });
      if (!probe.ok) {
        updateConfigFile(args.home, (c) => {
          for (const x of Array.isArray(c.connectors) ? c.connectors : [])
            if ((x as { name?: string }).name === name)
              Object.assign(x as object, {
                enabled: false,
                disabledReason: `${probe.kind}: ${probe.reason}`.slice(0, 300),
              });
        });
        io.err(
          `errand connectors: "${name}" still does not start (${probe.kind}: ${forTerminal(withoutUrlCredentials(probe.reason))}); it stays disabled.`,
        );
        return 1;
      }
      // Tools already pinned with this very text need no second look; the others are shown and pinned as shown.
      const store = new PinStore(pinsFile(args.home));
      const pinned = store.get(name) ?? {};
      const accepted = store.texts(name);
      const fresh = probe.tools
        .filter((t) => pinned[t.name] !== t.pin)
        .map((t) => (accepted[t.name] ? { ...t, accepted: accepted[t.name] } : t));
      showTools(io, name, { ...probe, tools: fresh }, false);
      // Asked as add asks: what is pinned is what was printed, so without a terminal to read it on
      // (output piped away, say) nothing is pinned unless --yes says it was read.
      if (fresh.length && args.values.yes !== true && !(await io.confirm('\nEnable these tools, as shown?'))) {
        io.err(
          io.interactive
            ? 'Not enabled.'
            : 'errand connectors: not enabled; run again with --yes after reading the tools above.',
        );
        return 1;
      }
      if (fresh.length) await pinShown(args.home, name, fresh, true);
      updateConfigFile(args.home, (c) => {
        for (const x of Array.isArray(c.connectors) ? c.connectors : [])
          if ((x as { name?: string }).name === name) {
            const rec = x as Record<string, unknown>;
            delete rec.enabled;
            delete rec.disabledReason;
          }
      });
      const n = probe.tools.length;
      io.out(`Enabled "${name}" (${n} tool${n === 1 ? '' : 's'}).`);
      await reloadDaemon(args.home, io);
      return 0;
    }

    if (action === 'accept') {
      const info = await daemonCall(args.home, 'connectors.tools', { name });
      if (!info) {
        io.err("errand connectors: the daemon is not running; start it so it can read the connector's current tools.");
        return 1;
      }
      const changed = info.tools.filter((t) => t.changed);
      if (!changed.length) {
        io.out(`No tool of "${name}" waits for review: each one's text is the one you accepted.`);
        return 0;
      }
      // What is accepted is exactly what is shown here: each tool by the hash of this text.
      if (changed.some((t) => t.pin === undefined)) {
        io.err(
          'errand connectors: the running daemon is older than this errand and cannot accept exactly the text shown; restart it (stop it, then `errand start`) and try again.',
        );
        return 1;
      }
      io.out(`These tools of "${name}" are new or changed. Read them as the model will see them:`);
      for (const t of changed) io.out(review(name, t).join('\n'));
      if (args.values.yes !== true && !(await io.confirm('\nAccept exactly these texts and enable the tools?'))) {
        io.err(
          io.interactive
            ? 'Not accepted; the tools stay disabled.'
            : 'errand connectors: not accepted; run again with --yes after reading them.',
        );
        return 1;
      }
      const pins = Object.fromEntries(changed.map((t) => [t.name, t.pin!]));
      const r = await daemonCall(args.home, 'connectors.accept', { name, pins });
      if (!r) {
        io.err('errand connectors: the daemon stopped; nothing was accepted.');
        return 1;
      }
      const again = changed.filter((t) => r.connector.changedTools?.includes(t.name)).map((t) => clean(t.name));
      if (again.length < changed.length) io.out(`Accepted. "${name}" has ${r.connector.tools} tools enabled.`);
      if (again.length) {
        io.err(
          `errand connectors: ${again.join(', ')} changed again while you read; not accepted, and disabled until you review it with \`errand connectors accept ${name}\`.`,
        );
        return 1;
      }
      return 0;
    }

    return 2;
  },
};
