// One MCP server: connect over stdio or streamable HTTP, report status instead of throwing,
// restart with backoff after a crash, refresh tools on tools/list_changed (coalesced), offer only
// tools within the bounds of tool-defs.ts, and offer only tools whose text is the one the person was
// shown (its pin, made at `errand connectors add`/`enable`/`accept`); the others wait for review.

import os from 'node:os';
import type { Client, Tool, Transport } from '@modelcontextprotocol/client';

/** The MCP SDK (its client package) is loaded when the first connector starts: a daemon without connectors never pays for it. */
let mcpLoaded: Promise<typeof import('@modelcontextprotocol/client')> | undefined;
const loadMcp = () => (mcpLoaded ??= import('@modelcontextprotocol/client'));

import type { ConnectorStatus } from '../../../../shared/src/index.js';
import type { ConnectorConfig } from '../../config/schema.js';
import type { ConnectorToolView } from '../../control/protocol.js';
import type { Logger } from '../../util/log.js';
import { withoutUrlCredentials } from '../../util/url-credentials.js';
import { VERSION } from '../../version.js';
import type { ProcessNotes } from '../orphans.js';
import { scrubbedEnv } from '../shell.js';
import { ToolError } from '../util.js';
import { AnswerTooLargeError, boundedFetch, MAX_CONNECTOR_ANSWER_BYTES } from './bounded-fetch.js';
import { legacyToolPin, type PinStore, toolPin } from './pins.js';
import { RefreshGate, type RefreshGateOptions } from './refresh-gate.js';
import type { SecretStore } from './secrets.js';
import { ServerProcessTransport } from './server-process.js';
import { boundTools, redactTool, toolText } from './tool-defs.js';

export interface ConnectorDeps {
  pins: PinStore;
  secrets: SecretStore;
  log: Logger;
  /** Errand's version (the MCP client introduces itself with VERSION either way; see clientInfo). */
  version: string;
  /** Secrets besides the connectors' own (e.g. the API key) to keep out of tool texts. */
  knownSecrets?: () => string[];
  onStatus(status: ConnectorStatus): void;
  /** First restart delay; doubles per failure up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  connectTimeoutMs: number;
  /** How tools/list_changed notices are paced (refresh-gate.ts); its defaults otherwise. */
  refresh?: Pick<RefreshGateOptions, 'intervalMs' | 'floodLimit' | 'floodWindowMs'>;
  /** Where a running stdio server is noted, so the next start kills it if the daemon died (orphans.ts). */
  notes?: ProcessNotes;
}

/**
 * The folder a stdio connector runs in: the home folder, whatever folder the daemon was started
 * from, so a relative path in its arguments means the same file at `errand connectors add` and
 * in the daemon (add stores paths to existing files as absolute ones anyway).
 */
export const connectorCwd = () => os.homedir();

/** The exact command a stdio connector runs, as the user should see it before enabling it. */
export function launchLine(cfg: ConnectorConfig): string {
  if (cfg.transport === 'http')
    return `${cfg.url}${Object.keys(cfg.headers).length ? ` (headers: ${Object.keys(cfg.headers).join(', ')})` : ''}`;
  const q = (a: string) => (/^[A-Za-z0-9_\-./=:@%+,]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const env = Object.keys(cfg.env)
    .map((k) => `${k}=<secret>`)
    .join(' ');
  return `${env ? env + ' ' : ''}${[cfg.command, ...cfg.args].map(q).join(' ')}`;
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not answer within ${Math.round(ms / 1000)}s`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });

/** The MCP SDK, loaded on first use. */
export const mcpClient = () => loadMcp();

/**
 * How Errand introduces itself to a server, the same from the check at add time as from the daemon:
 * a server must not be able to tell which one asks and show the person a text the model never gets.
 */
export const clientInfo = () => ({ name: 'errand', version: VERSION });

/**
 * Every tool a server lists (at most 1,000 over its pages), with `secrets` taken out of their text
 * (a tool named with one is left out), within the bounds of tool-defs.ts. The check at add time and
 * the daemon list alike, so what the person is shown is what the daemon compares with.
 */
export async function listServerTools(
  client: Client,
  secrets: string[],
  opts: { timeout?: number; signal?: AbortSignal } = {},
): Promise<{ kept: Tool[]; leftOut?: string }> {
  const listed: Tool[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : undefined, opts);
    listed.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor && listed.length < 1000);
  return boundTools(
    listed.map((t) => redactTool(t, secrets)),
    secrets,
  );
}

/** Each tool as a person reviews it: its text as the model will see it, and the pin that text makes. */
export function toolViews(connector: string, tools: Tool[]): ConnectorToolView[] {
  return tools.map((t) => ({ name: t.name, ...toolText(connector, t), changed: true, pin: toolPin(t) }));
}

/**
 * A transport for one connector: its command run over stdio in connectorCwd() (secrets as environment
 * variables, in an environment scrubbed of the daemon's own; see server-process.ts for how it and what
 * it starts are ended), or its URL over streamable HTTP (secrets as headers).
 */
export async function openTransport(
  config: ConnectorConfig,
  secrets: Record<string, string>,
  onStderr?: (text: string) => void,
  onTooLarge?: (err: AnswerTooLargeError) => void,
  notes?: ProcessNotes,
): Promise<Transport> {
  const { ReadBuffer, serializeMessage, StreamableHTTPClientTransport } = await loadMcp();
  const lookup = (kind: string, map: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(map).map(([k, name]) => {
        const v = secrets[name];
        if (v === undefined) throw new Error(`the secret "${name}" for ${kind} ${k} is missing from secrets.json`);
        return [k, v];
      }),
    );
  if (config.transport === 'stdio') {
    const t = new ServerProcessTransport({
      command: config.command,
      args: config.args,
      env: { ...scrubbedEnv(), ...lookup('environment variable', config.env) },
      cwd: connectorCwd(),
      notes,
      sdk: { ReadBuffer, serializeMessage },
    });
    t.stderr.on('data', (c: Buffer) => onStderr?.(c.toString('utf8')));
    return t;
  }
  return new StreamableHTTPClientTransport(new URL(config.url), {
    requestInit: { headers: lookup('header', config.headers) },
    fetch: boundedFetch({ onTooLarge }),
  });
}

/** Why connecting failed, as a person can act on it. */
function connectFailure(err: Error): string {
  if (err instanceof AnswerTooLargeError)
    return `an answer while connecting was over ${Math.round(MAX_CONNECTOR_ANSWER_BYTES / (1024 * 1024))} MB, so Errand stopped reading it`;
  // The SDK's "Connection closed" (MCP error -32000) says no more than this.
  if (/Connection closed/i.test(err.message) && (err as { code?: number }).code === -32000)
    return 'the server closed the connection';
  // fetch keeps the reason in its cause (a refused address, a header too large, …).
  const cause = (err as { cause?: Error & { code?: string } }).cause;
  if (err.message === 'fetch failed' && cause)
    return `fetch failed: ${cause.message}${cause.code ? ` (${cause.code})` : ''}`;
  return err.message;
}

/**
 * Why a connector failed, as people and logs may see it: its server's own output can quote the
 * secrets it was given, and fetch quotes a refused URL with its user name and password.
 */
export function failureWords(reason: string, secrets: Iterable<string>): string {
  let words = withoutUrlCredentials(reason);
  for (const secret of secrets) if (secret.length >= 4) words = words.split(secret).join('[redacted]');
  return words;
}

export class Connector {
  status: ConnectorStatus['status'] = 'starting';
  reason: string | undefined;
  /** The tools within bounds, pinned or not. */
  tools: Tool[] = [];
  enabledTools: Tool[] = [];
  changedTools: string[] = [];
  /** What the bounds left out, for the status. */
  private leftOut: string | undefined;
  /** Enabled tools left out because their model name is another tool's (set by the manager). */
  private nameClashes: string[] = [];
  private gate: RefreshGate | undefined;
  /** Listing is one at a time: two refreshes must not interleave their pin writes. */
  private listing: Promise<void> = Promise.resolve();
  /** Aborted when an event stream carried an answer over the bound: the request it carried would otherwise wait out its time limit. */
  private tooLarge = new AbortController();
  private client: Client | undefined;
  private transportRef: Transport | undefined;
  private generation = 0;
  private attempts = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private stderrTail = '';
  /** Resolves when the current connection attempt has finished (either way). */
  settled: Promise<void> = Promise.resolve();

  constructor(
    readonly config: ConnectorConfig,
    private readonly deps: ConnectorDeps,
  ) {}

  get name(): string {
    return this.config.name;
  }

  /** The process id of a stdio server while it runs (diagnostics, tests). */
  get pid(): number | undefined {
    return this.transportRef instanceof ServerProcessTransport ? this.transportRef.pid : undefined;
  }

  statusView(): ConnectorStatus {
    const clashes = this.nameClashes.length
      ? `${this.nameClashes.join(', ')} left out: another connector tool has the same model name`
      : undefined;
    const reason =
      this.reason ?? (this.status === 'connected' ? [this.leftOut, clashes].filter(Boolean).join('; ') : '');
    return {
      name: this.name,
      transport: this.config.transport,
      status: this.status,
      ...(reason ? { reason } : {}),
      tools: this.enabledTools.length,
      ...(this.changedTools.length ? { changedTools: this.changedTools } : {}),
    };
  }

  private setStatus(status: ConnectorStatus['status'], reason?: string): void {
    this.status = status;
    this.reason = reason;
    this.deps.onStatus(this.statusView());
  }

  start(): Promise<void> {
    if (!this.config.enabled) {
      // A reason saved by an older `errand connectors add` may quote the server's output as it was.
      const saved = this.config.disabledReason;
      this.setStatus(
        'disabled',
        saved !== undefined ? failureWords(saved, this.deps.secrets.values()) : 'turned off in the configuration',
      );
      return Promise.resolve();
    }
    this.stopped = false;
    this.settled = this.connect();
    return this.settled;
  }

  private async transport(): Promise<Transport> {
    return openTransport(
      this.config,
      this.deps.secrets.all(),
      (text) => {
        this.stderrTail = (this.stderrTail + text).slice(-2000);
      },
      (err) => {
        const over = this.tooLarge;
        this.tooLarge = new AbortController();
        over.abort(err);
      },
      this.deps.notes,
    );
  }

  private async connect(): Promise<void> {
    const gen = ++this.generation;
    this.stderrTail = '';
    this.setStatus('starting');
    const { Client } = await loadMcp();
    const client = new Client(clientInfo(), { capabilities: {} });
    // Until the handshake and first listing are done, a failure is reported by the catch below with
    // its real reason (an answer over the bound, a redirect not followed): the SDK closes the client
    // when initialize fails, and that close must not be reported first as "the server closed it".
    let ready = false;
    try {
      const transport = await this.transport();
      this.transportRef = transport;
      client.onclose = () => {
        if (ready && gen === this.generation && !this.stopped) this.crashed('the server closed the connection');
      };
      client.onerror = (err) =>
        this.deps.log.debug('connector transport error', { connector: this.name, error: err.message });
      this.gate?.close();
      const gate = new RefreshGate({
        ...this.deps.refresh,
        run: () =>
          this.refresh().catch((err: Error) =>
            this.deps.log.warn('connector tool refresh failed', { connector: this.name, error: err.message }),
          ),
        onFlood: (notices, windowMs) => {
          if (gen === this.generation && !this.stopped)
            this.crashed(
              `it said its tools changed ${notices} times in ${Math.round(windowMs / 1000)}s (a flood of tools/list_changed); Errand stopped listening to it`,
              this.deps.maxBackoffMs,
            );
        },
      });
      this.gate = gate;
      client.setNotificationHandler('notifications/tools/list_changed', async () => {
        if (gen === this.generation) gate.notice();
      });
      this.client = client;
      await withTimeout(client.connect(transport), this.deps.connectTimeoutMs, 'the server');
      await this.refresh();
      if (gen !== this.generation || this.stopped) return;
      ready = true;
      this.attempts = 0;
      this.setStatus('connected');
    } catch (err) {
      if (gen !== this.generation || this.stopped) return;
      this.crashed(connectFailure(err as Error));
    }
  }

  /** Secrets kept out of tool texts: every connector's, and the daemon's own. */
  private secretValues(): string[] {
    return [...this.deps.secrets.values(), ...(this.deps.knownSecrets?.() ?? [])];
  }

  /** List tools again; offer those whose text is pinned, hold back the others for review. One listing at a time. */
  refresh(): Promise<void> {
    const run = this.listing.then(() => this.list());
    this.listing = run.catch(() => undefined);
    return run;
  }

  /** Resolves when no tools/list_changed refresh runs or waits (tests). */
  async refreshesDone(): Promise<void> {
    await this.gate?.idle();
    await this.listing;
  }

  private async list(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const { kept: tools, leftOut } = await listServerTools(client, this.secretValues(), {
      timeout: this.deps.connectTimeoutMs,
      signal: this.tooLarge.signal,
    });
    const texts = (list: Tool[]) => Object.fromEntries(list.map((t) => [t.name, toolText(this.name, t)]));
    // Nothing is pinned on first sight: a text nobody was shown is not trusted. A connector added
    // before its tools were shown at add time has no pins, so its tools wait for `accept`.
    let pins = this.deps.pins.get(this.name) ?? {};
    // Pins written before annotations were covered: upgrade those that still match, once.
    const upgraded = tools.filter((t) => pins[t.name] !== toolPin(t) && pins[t.name] === legacyToolPin(t));
    if (upgraded.length) {
      pins = { ...pins, ...Object.fromEntries(upgraded.map((t) => [t.name, toolPin(t)])) };
      await this.deps.pins.set(this.name, pins, { ...this.deps.pins.texts(this.name), ...texts(upgraded) });
    }
    this.tools = tools;
    this.leftOut = leftOut;
    this.enabledTools = tools.filter((t) => pins[t.name] === toolPin(t));
    this.changedTools = tools.filter((t) => pins[t.name] !== toolPin(t)).map((t) => t.name);
    if (this.status === 'connected') this.deps.onStatus(this.statusView());
  }

  /** Every tool within bounds with its text, its pin hash, and for a changed one the text accepted before. */
  toolsView(): ConnectorToolView[] {
    const accepted = this.deps.pins.texts(this.name);
    return this.tools.map((t) => {
      const changed = this.changedTools.includes(t.name);
      const before = changed ? accepted[t.name] : undefined;
      return {
        name: t.name,
        ...toolText(this.name, t),
        changed,
        pin: toolPin(t),
        ...(before ? { accepted: before } : {}),
      };
    });
  }

  /**
   * The person read the tools `shown` (name → the pin hash they were shown with). Only a tool whose
   * text is still that one is pinned: one that changed again since (or is gone) stays as it was.
   */
  async accept(shown: Record<string, string>): Promise<void> {
    await this.refresh();
    const pins = { ...this.deps.pins.get(this.name) };
    const texts = { ...this.deps.pins.texts(this.name) };
    let accepted = 0;
    for (const t of this.tools)
      if (Object.hasOwn(shown, t.name) && shown[t.name] === toolPin(t)) {
        pins[t.name] = shown[t.name]!;
        texts[t.name] = toolText(this.name, t);
        accepted++;
      }
    if (accepted) {
      await this.deps.pins.set(this.name, pins, texts);
      await this.refresh();
    }
    this.deps.onStatus(this.statusView());
  }

  /** The manager found enabled tools whose model name another tool has: named in the status. */
  setNameClashes(tools: string[]): void {
    if (tools.join('\0') === this.nameClashes.join('\0')) return;
    this.nameClashes = tools;
    if (this.status === 'connected') this.deps.onStatus(this.statusView());
  }

  private crashed(why: string, minDelayMs = 0): void {
    const tail = this.stderrTail.trim().split('\n').slice(-3).join(' | ');
    // fetch quotes a URL it refuses, user name and password included: those never leave.
    const reason = failureWords(`${why}${tail ? ` (stderr: ${tail.slice(-300)})` : ''}`, this.deps.secrets.values());
    const old = this.client;
    this.client = undefined;
    this.generation++;
    this.gate?.close();
    void old?.close().catch(() => undefined);
    const delay = Math.max(minDelayMs, Math.min(this.deps.maxBackoffMs, this.deps.backoffMs * 2 ** this.attempts));
    this.attempts++;
    this.deps.log.warn('connector failed', { connector: this.name, reason, retryInMs: delay });
    this.setStatus('failed', `${reason}; retrying in ${Math.max(1, Math.round(delay / 1000))}s`);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (!this.stopped) void this.start();
    }, delay);
    this.timer.unref?.();
  }

  async call(tool: string, args: Record<string, unknown>, signal: AbortSignal, timeoutMs: number) {
    const client = this.client;
    if (!client || this.status !== 'connected')
      throw new ToolError(`The connector "${this.name}" is not connected (${this.reason ?? this.status}).`);
    const tooLarge = this.tooLarge.signal;
    try {
      return await client.callTool(
        { name: tool, arguments: args },
        { signal: AbortSignal.any([signal, tooLarge]), timeout: timeoutMs },
      );
    } catch (err) {
      // The request may have reached the server, which may have acted on it: not "failed".
      if (signal.aborted)
        throw new ToolError(
          `Cancelled while the ${this.name} connector handled ${tool}: whether the server already did it is unknown. Check its effect before calling it again.`,
        );
      if (err instanceof AnswerTooLargeError) throw new ToolError(`The ${this.name} connector failed: ${err.message}.`);
      if (tooLarge.aborted && !signal.aborted)
        throw new ToolError(`The ${this.name} connector failed: ${(tooLarge.reason as Error).message}.`);
      if (this.config.transport === 'http' && /fetch failed|ECONNREFUSED|socket/i.test((err as Error).message))
        this.crashed((err as Error).message);
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    this.gate?.close();
    clearTimeout(this.timer);
    const c = this.client;
    this.client = undefined;
    await c?.close().catch(() => undefined);
  }
}
