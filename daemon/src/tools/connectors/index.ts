// Connectors (MCP servers): started from the configuration, re-applied when it changes, their
// tools offered to the model as `<connector>__<tool>`. Output is untrusted: it taints the task.
import path from 'node:path';
import type { ConnectorStatus, ServerEvent } from '../../../../shared/src/index.js';
import type { ToolResultBlock } from '../../agent/tool-runtime.js';
import type { ConnectorConfig } from '../../config/schema.js';
import type { ConnectorToolView } from '../../control/protocol.js';
import { checkBase64Image } from '../../util/image-bytes.js';
import type { Logger } from '../../util/log.js';
import { setConnectorLaunchFiles } from '../lasting-files.js';
import { ProcessNotes } from '../orphans.js';
import { MAX_IMAGE_BYTES } from '../readers.js';
import { everyForm, redactText } from '../redact.js';
import { asInput, type ToolSpec } from '../types.js';
import { canonicalJson, ToolError } from '../util.js';
import { Connector, type ConnectorDeps, connectorCwd, launchLine } from './connector.js';
import { connectorLaunchFiles } from './launch-files.js';
import { uniqueModelNames } from './model-names.js';
import { PinStore } from './pins.js';
import { SecretStore } from './secrets.js';
import { modelDescription, modelSchema } from './tool-defs.js';

export { launchLine } from './connector.js';
export { PinStore } from './pins.js';
export { SecretStore } from './secrets.js';

export interface ConnectorManagerOptions {
  home: string;
  secretsFile: string;
  log: Logger;
  version: string;
  emit(e: ServerEvent): Promise<number>;
  backoffMs?: number;
  maxBackoffMs?: number;
  connectTimeoutMs?: number;
  callTimeoutMs?: number;
  refresh?: ConnectorDeps['refresh'];
}

const IMAGE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);
/**
 * One connector result is bounded as a whole, as the shell's output is (shell.maxOutputBytes): at
 * most this many characters of text over all its blocks, images only up to the size fs_read sends
 * (MAX_IMAGE_BYTES each and in all), and at most this many blocks. What is left out is named in a
 * plain note the model reads, so it can ask the tool for less. An image that is not what it says is
 * left out the same way (image-bytes.ts: the API would refuse it, and every later request of the thread).
 */
export const MAX_RESULT_TEXT = 100_000;
export const MAX_RESULT_IMAGES = MAX_IMAGE_BYTES;
const MAX_RESULT_BLOCKS = 100;

type McpContent = {
  type: string;
  text?: string;
  data?: string;
  mimeType?: string;
  uri?: string;
  name?: string;
  resource?: { uri: string; text?: string; mimeType?: string };
};

/** Bytes an image's base64 data decodes to. */
const decoded = (b64: string) => Math.floor((b64.length * 3) / 4);
const mb = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MB`;

export function toBlocks(content: McpContent[] | undefined, structured: unknown): ToolResultBlock[] {
  const blocks: ToolResultBlock[] = [];
  let textLeft = MAX_RESULT_TEXT;
  let imageLeft = MAX_RESULT_IMAGES;
  let clippedChars = 0;
  let droppedBlocks = 0;
  const addText = (t: string) => {
    if (blocks.length >= MAX_RESULT_BLOCKS || textLeft <= 0) {
      clippedChars += t.length;
      droppedBlocks++;
      return;
    }
    if (t.length > textLeft) {
      clippedChars += t.length - textLeft;
      blocks.push({ type: 'text', text: t.slice(0, textLeft) });
      textLeft = 0;
      return;
    }
    blocks.push({ type: 'text', text: t });
    textLeft -= t.length;
  };
  for (const c of Array.isArray(content) ? content : []) {
    if (c.type === 'text' && typeof c.text === 'string') addText(c.text);
    else if (c.type === 'image' && typeof c.data === 'string' && c.mimeType && IMAGE.has(c.mimeType)) {
      const size = decoded(c.data);
      if (size > MAX_IMAGE_BYTES)
        addText(`[image (${c.mimeType}, ${mb(size)}) left out: an image may be at most ${mb(MAX_IMAGE_BYTES)}]`);
      else if (size > imageLeft)
        addText(
          `[image (${c.mimeType}, ${mb(size)}) left out: this result's images may total at most ${mb(MAX_RESULT_IMAGES)}]`,
        );
      else if (blocks.length >= MAX_RESULT_BLOCKS) droppedBlocks++;
      else {
        const image = checkBase64Image(c.data);
        if (!image.ok) addText(`[image (${c.mimeType}) left out: ${image.why}]`);
        else {
          imageLeft -= size;
          blocks.push({ type: 'image', source: { type: 'base64', media_type: image.mediaType, data: image.data } });
        }
      }
    } else if (c.type === 'resource' && c.resource) {
      addText(
        c.resource.text !== undefined
          ? `[resource ${c.resource.uri}]\n${c.resource.text}`
          : `[resource ${c.resource.uri} (${c.resource.mimeType ?? 'binary'})]`,
      );
    } else if (c.type === 'resource_link') addText(`[link: ${c.uri ?? ''} ${c.name ?? ''}]`);
    else addText(`[${c.type} content omitted]`);
  }
  if (!blocks.length && !droppedBlocks && structured !== undefined) addText(JSON.stringify(structured));
  if (clippedChars || droppedBlocks)
    blocks.push({
      type: 'text',
      text: `[Clipped: this result was too large to pass on whole; ${clippedChars.toLocaleString('en-US')} characters${droppedBlocks ? ` and ${droppedBlocks.toLocaleString('en-US')} more blocks` : ''} were left out (a connector result is shown up to ${MAX_RESULT_TEXT.toLocaleString('en-US')} characters and ${MAX_RESULT_BLOCKS} blocks). Ask the tool for less, e.g. a narrower query or one page at a time.]`,
    });
  if (!blocks.length) blocks.push({ type: 'text', text: '(no output)' });
  return blocks;
}

/** The shortest secret redacted in tool output (as the runtime: a shorter one would match ordinary words). */
const MIN_SECRET = 8;

/**
 * A known secret a server split over text blocks ("tok-Sp" + "lit-9f…", maybe with an image or a
 * link between them) is whole only in their join, and the runtime redacts block by block. When the
 * join of a result's text blocks redacts differently from its blocks one by one, they become one
 * block, the join redacted, in the first one's place (the other blocks follow in their order): what
 * the model, the phone and the store get never holds the halves.
 */
export function joinSplitSecrets(blocks: ToolResultBlock[], secrets: string[]): ToolResultBlock[] {
  const known = { values: secrets.filter((x) => x.length >= MIN_SECRET), tokenHashes: new Set<string>() };
  const texts = blocks.flatMap((b) => (b.type === 'text' ? [b.text] : []));
  if (!known.values.length || texts.length < 2) return blocks;
  const whole = redactText(texts.join(''), known);
  if (whole === texts.map((t) => redactText(t, known)).join('')) return blocks;
  const first = blocks.findIndex((b) => b.type === 'text');
  const others = blocks.filter((b) => b.type !== 'text');
  return [...others.slice(0, first), { type: 'text', text: whole }, ...others.slice(first)];
}

/**
 * The secret store as connectors see it. A connector redacts its crash reason (the server's stderr,
 * shown on the phone and logged) of each of `values()`: here every form a secret takes in text
 * (redact.ts), so a secret the server printed JSON-escaped, URL-encoded or in base64 is caught too.
 */
class ConnectorSecretStore extends SecretStore {
  override values(): string[] {
    return super.values().flatMap(everyForm);
  }
}

export class ConnectorManager {
  private connectors = new Map<string, Connector>();
  readonly pins: PinStore;
  readonly secrets: SecretStore;
  private readonly connectorSecrets: SecretStore;
  private last = new Map<string, ConnectorStatus>();
  /** Running stdio servers, each with what it started: a daemon killed with -9 leaves them to the next start. */
  private readonly notes: ProcessNotes;

  constructor(private readonly opts: ConnectorManagerOptions) {
    this.pins = new PinStore(path.join(opts.home, 'connector-pins.json'));
    this.secrets = new SecretStore(opts.secretsFile);
    this.connectorSecrets = new ConnectorSecretStore(opts.secretsFile);
    this.notes = new ProcessNotes(path.join(opts.home, 'running-connectors.json'));
    const left = this.notes.reap();
    if (left.length)
      opts.log.warn('killed connector servers left running by a previous daemon', {
        servers: left.map((n) => n.argv0),
      });
  }

  private onStatus = (s: ConnectorStatus) => {
    const prev = this.last.get(s.name);
    if (prev && canonicalJson(prev) === canonicalJson(s)) return;
    this.last.set(s.name, s);
    void this.opts.emit({ kind: 'connector.updated', connector: s }).catch(() => undefined);
  };

  /** Bring the running connectors in line with the configuration. */
  async apply(configs: ConnectorConfig[]): Promise<void> {
    // What the servers run is a file other programs run later, disabled ones too (enable starts them).
    const launch = connectorLaunchFiles(configs, connectorCwd());
    setConnectorLaunchFiles(this, launch.files, launch.folders);
    const wanted = new Map(configs.map((c) => [c.name, c]));
    for (const [name, conn] of [...this.connectors]) {
      const next = wanted.get(name);
      if (next && canonicalJson(next) === canonicalJson(conn.config)) continue;
      await conn.stop();
      this.connectors.delete(name);
      if (!next) {
        await this.pins.remove(name);
        this.last.delete(name);
      }
    }
    for (const cfg of configs) {
      if (this.connectors.has(cfg.name)) continue;
      const conn = new Connector(cfg, {
        pins: this.pins,
        secrets: this.connectorSecrets,
        log: this.opts.log,
        version: this.opts.version,
        onStatus: this.onStatus,
        backoffMs: this.opts.backoffMs ?? 1000,
        maxBackoffMs: this.opts.maxBackoffMs ?? 60_000,
        connectTimeoutMs: this.opts.connectTimeoutMs ?? 30_000,
        ...(this.opts.refresh ? { refresh: this.opts.refresh } : {}),
        notes: this.notes,
      });
      this.connectors.set(cfg.name, conn);
      void conn.start();
    }
  }

  /** Wait until every connector's current connection attempt has finished (tests, start-up). */
  async settled(): Promise<void> {
    await Promise.all([...this.connectors.values()].map((c) => c.settled));
  }

  get(name: string): Connector | undefined {
    return this.connectors.get(name);
  }

  statuses(): Array<ConnectorStatus & { launch: string }> {
    return [...this.connectors.values()].map((c) => ({ ...c.statusView(), launch: launchLine(c.config) }));
  }

  isReadOnly(name: string): boolean {
    return this.connectors.get(name)?.config.readOnly ?? false;
  }

  /** Each tool of a connector as a person reviews it before accepting (errand connectors accept). */
  toolsView(name: string): { status: ConnectorStatus; tools: ConnectorToolView[] } {
    const c = this.connectors.get(name);
    if (!c) throw new Error(`No connector named "${name}".`);
    return { status: c.statusView(), tools: c.toolsView() };
  }

  /**
   * Pin the tools the person was shown, each only if its text is still the one shown (`pins`: tool
   * name → the pin hash toolsView gave). A grant is never wider than what was shown: a tool that
   * changed again stays in the status's changedTools.
   */
  async accept(name: string, pins?: Record<string, string>): Promise<ConnectorStatus> {
    const c = this.connectors.get(name);
    if (!c) throw new Error(`No connector named "${name}".`);
    if (!pins)
      throw new Error(
        'Accepting needs the tool texts you were shown; run `errand connectors accept <name>` from this version of Errand.',
      );
    if (c.status !== 'connected')
      throw new Error(
        `The connector "${name}" is ${c.status}${c.reason ? ` (${c.reason})` : ''}; it must be connected to accept its tools.`,
      );
    await c.accept(pins);
    return c.statusView();
  }

  /** Tool specs for every enabled tool of every connected connector, in a stable order, each under its own name. */
  toolSpecs(): ToolSpec[] {
    const specs: ToolSpec[] = [];
    const callTimeout = this.opts.callTimeoutMs ?? 120_000;
    const secrets = this.secrets;
    const connected = [...this.connectors.values()]
      .filter((c) => c.status === 'connected')
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const entries = connected.flatMap((conn) =>
      [...conn.enabledTools]
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map((tool) => ({ connector: conn.name, tool: tool.name, conn, def: tool })),
    );
    const { named, clashes } = uniqueModelNames(entries);
    for (const conn of connected) conn.setNameClashes(clashes.filter((e) => e.conn === conn).map((e) => e.tool));
    for (const { entry, name } of named) {
      const { conn, def: tool } = entry;
      const readOnly = tool.annotations?.readOnlyHint === true;
      specs.push({
        kind: 'connector',
        egress: !conn.config.readOnly, // a server's own readOnlyHint is not trusted for this
        readOnly,
        connector: conn.name,
        definition: { name, description: modelDescription(conn.name, tool), input_schema: modelSchema(tool) },
        summarize: () => `${conn.name}: ${tool.title ?? tool.name}`,
        async prepare(raw, call) {
          const args = asInput(raw ?? {});
          return {
            action: { tool: name, connector: conn.name, serverTool: tool.name, arguments: args },
            actionClass: name,
            summary: `${conn.name}: ${tool.title ?? tool.name}`,
            subjects: [],
            async execute(signal) {
              const live = conn.enabledTools.find((t) => t.name === tool.name);
              if (!live)
                throw new ToolError(
                  `The tool ${name} is disabled now (its description changed or the connector restarted); the user must accept it again.`,
                );
              const res = await conn.call(tool.name, args, signal, callTimeout);
              const blocks = joinSplitSecrets(
                toBlocks(res.content as McpContent[] | undefined, res.structuredContent),
                secrets.values(),
              );
              return {
                content: blocks,
                isError: res.isError === true,
                tainted: true,
                summary: `${conn.name}: ${tool.name}${res.isError ? ' (error)' : ''}`,
              };
            },
          };
        },
      });
    }
    return specs;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.connectors.values()].map((c) => c.stop()));
    this.connectors.clear();
    setConnectorLaunchFiles(this, [], []);
  }
}
