// One MCP server: connect over stdio or streamable HTTP, report status instead of throwing,
// restart with backoff after a crash, refresh tools on tools/list_changed, and disable tools
// whose description no longer matches its pin.
import type { Client, Tool, Transport } from '@modelcontextprotocol/client';
import type { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

/** The MCP SDK (its client package) is loaded when the first connector starts: a daemon without connectors never pays for it. */
let mcpLoaded:
  | Promise<{
      Client: typeof import('@modelcontextprotocol/client').Client;
      StdioClientTransport: typeof import('@modelcontextprotocol/client/stdio').StdioClientTransport;
      StreamableHTTPClientTransport: typeof import('@modelcontextprotocol/client').StreamableHTTPClientTransport;
    }>
  | undefined;
const loadMcp = () =>
  (mcpLoaded ??= Promise.all([
    import('@modelcontextprotocol/client'),
    import('@modelcontextprotocol/client/stdio'),
  ]).then(([c, s]) => ({
    Client: c.Client,
    StdioClientTransport: s.StdioClientTransport,
    StreamableHTTPClientTransport: c.StreamableHTTPClientTransport,
  })));

import type { ConnectorStatus } from '../../../../shared/src/index.js';
import type { ConnectorConfig } from '../../config/schema.js';
import type { Logger } from '../../util/log.js';
import { scrubbedEnv } from '../shell.js';
import { ToolError } from '../util.js';
import { legacyToolPin, type PinStore, toolPin } from './pins.js';
import type { SecretStore } from './secrets.js';

export interface ConnectorDeps {
  pins: PinStore;
  secrets: SecretStore;
  log: Logger;
  version: string;
  onStatus(status: ConnectorStatus): void;
  /** First restart delay; doubles per failure up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  connectTimeoutMs: number;
}

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
 * A transport for one connector: its command run over stdio (secrets as environment variables, in an
 * environment scrubbed of the daemon's own), or its URL over streamable HTTP (secrets as headers).
 */
export async function openTransport(
  config: ConnectorConfig,
  secrets: Record<string, string>,
  onStderr?: (text: string) => void,
): Promise<Transport> {
  const { StdioClientTransport, StreamableHTTPClientTransport } = await loadMcp();
  const lookup = (kind: string, map: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(map).map(([k, name]) => {
        const v = secrets[name];
        if (v === undefined) throw new Error(`the secret "${name}" for ${kind} ${k} is missing from secrets.json`);
        return [k, v];
      }),
    );
  if (config.transport === 'stdio') {
    const t = new StdioClientTransport({
      command: config.command,
      args: config.args,
      env: { ...scrubbedEnv(), ...lookup('environment variable', config.env) },
      stderr: 'pipe',
    });
    t.stderr?.on('data', (c: Buffer) => onStderr?.(c.toString('utf8')));
    return t;
  }
  return new StreamableHTTPClientTransport(new URL(config.url), {
    requestInit: { headers: lookup('header', config.headers) },
  });
}

export class Connector {
  status: ConnectorStatus['status'] = 'starting';
  reason: string | undefined;
  tools: Tool[] = [];
  enabledTools: Tool[] = [];
  changedTools: string[] = [];
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
    return this.config.transport === 'stdio'
      ? ((this.transportRef as StdioClientTransport | undefined)?.pid ?? undefined)
      : undefined;
  }

  statusView(): ConnectorStatus {
    return {
      name: this.name,
      transport: this.config.transport,
      status: this.status,
      ...(this.reason ? { reason: this.reason } : {}),
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
      this.setStatus('disabled', this.config.disabledReason ?? 'turned off in the configuration');
      return Promise.resolve();
    }
    this.stopped = false;
    this.settled = this.connect();
    return this.settled;
  }

  private async transport(): Promise<Transport> {
    return openTransport(this.config, this.deps.secrets.all(), (text) => {
      this.stderrTail = (this.stderrTail + text).slice(-2000);
    });
  }

  private async connect(): Promise<void> {
    const gen = ++this.generation;
    this.stderrTail = '';
    this.setStatus('starting');
    const { Client } = await loadMcp();
    const client = new Client({ name: 'errand', version: this.deps.version }, { capabilities: {} });
    try {
      const transport = await this.transport();
      this.transportRef = transport;
      client.onclose = () => {
        if (gen === this.generation && !this.stopped) this.crashed('the server closed the connection');
      };
      client.onerror = (err) =>
        this.deps.log.debug('connector transport error', { connector: this.name, error: err.message });
      client.setNotificationHandler('notifications/tools/list_changed', async () => {
        if (gen !== this.generation) return;
        await this.refresh().catch((err: Error) =>
          this.deps.log.warn('connector tool refresh failed', { connector: this.name, error: err.message }),
        );
      });
      this.client = client;
      await withTimeout(client.connect(transport), this.deps.connectTimeoutMs, 'the server');
      await this.refresh();
      if (gen !== this.generation || this.stopped) return;
      this.attempts = 0;
      this.setStatus('connected');
    } catch (err) {
      if (gen !== this.generation || this.stopped) return;
      this.crashed((err as Error).message);
    }
  }

  /** List tools again; pin on first sight, disable tools whose description changed. */
  async refresh(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : undefined, { timeout: this.deps.connectTimeoutMs });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor && tools.length < 1000);
    let pins = this.deps.pins.get(this.name);
    if (!pins) {
      pins = Object.fromEntries(tools.map((t) => [t.name, toolPin(t)]));
      await this.deps.pins.set(this.name, pins);
    }
    // Pins written before annotations were covered: upgrade those that still match, once.
    const upgraded = tools.filter((t) => pins![t.name] !== toolPin(t) && pins![t.name] === legacyToolPin(t));
    if (upgraded.length) {
      pins = { ...pins, ...Object.fromEntries(upgraded.map((t) => [t.name, toolPin(t)])) };
      await this.deps.pins.set(this.name, pins);
    }
    this.tools = tools;
    this.enabledTools = tools.filter((t) => pins![t.name] === toolPin(t));
    this.changedTools = tools.filter((t) => pins![t.name] !== toolPin(t)).map((t) => t.name);
    if (this.status === 'connected') this.deps.onStatus(this.statusView());
  }

  /** The user looked at the tools again: pin their current descriptions. */
  async accept(): Promise<void> {
    await this.deps.pins.set(this.name, Object.fromEntries(this.tools.map((t) => [t.name, toolPin(t)])));
    await this.refresh();
    this.deps.onStatus(this.statusView());
  }

  private crashed(why: string): void {
    const tail = this.stderrTail.trim().split('\n').slice(-3).join(' | ');
    let reason = `${why}${tail ? ` (stderr: ${tail.slice(-300)})` : ''}`;
    for (const secret of this.deps.secrets.values())
      if (secret.length >= 4) reason = reason.split(secret).join('[redacted]');
    const old = this.client;
    this.client = undefined;
    this.generation++;
    void old?.close().catch(() => undefined);
    const delay = Math.min(this.deps.maxBackoffMs, this.deps.backoffMs * 2 ** this.attempts);
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
    try {
      return await client.callTool({ name: tool, arguments: args }, { signal, timeout: timeoutMs });
    } catch (err) {
      if (this.config.transport === 'http' && /fetch failed|ECONNREFUSED|socket/i.test((err as Error).message))
        this.crashed((err as Error).message);
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    clearTimeout(this.timer);
    const c = this.client;
    this.client = undefined;
    await c?.close().catch(() => undefined);
  }
}
