// Tool description pins: the hash of each connector tool's name, description and input schema,
// recorded when the connector is added (its first successful connection) or accepted again with
// `errand connectors accept <name>`. A tool whose hash no longer matches is disabled. The pin covers
// the tool's annotations too.
import fs from 'node:fs';
import { writeFileDurably } from '../../util/durable-file.js';
import { actionHash } from '../util.js';

type PinsDoc = { schema: 1; connectors: Record<string, Record<string, string>> };

type PinnedTool = { name: string; description?: string; inputSchema?: unknown; title?: string; annotations?: unknown };

/**
 * A tool's pin covers what changes how it is treated too: its annotations (a readOnlyHint flipped
 * from false to true would otherwise make a tool stop asking and stop counting as egress unnoticed).
 */
export function toolPin(tool: PinnedTool): string {
  return actionHash({
    v: 2,
    name: tool.name,
    title: tool.title ?? null,
    description: tool.description ?? '',
    inputSchema: tool.inputSchema ?? null,
    annotations: tool.annotations ?? null,
  });
}

/** The pin before annotations were covered: a match is re-pinned once, with the annotations seen now. */
export function legacyToolPin(tool: PinnedTool): string {
  return actionHash({
    name: tool.name,
    title: tool.title ?? null,
    description: tool.description ?? '',
    inputSchema: tool.inputSchema ?? null,
  });
}

export class PinStore {
  constructor(readonly file: string) {}

  private read(): PinsDoc {
    try {
      const v = JSON.parse(fs.readFileSync(this.file, 'utf8')) as PinsDoc;
      if (v && v.schema === 1 && v.connectors) return v;
    } catch {
      /* none yet */
    }
    return { schema: 1, connectors: {} };
  }

  get(connector: string): Record<string, string> | undefined {
    return this.read().connectors[connector];
  }

  async set(connector: string, pins: Record<string, string>): Promise<void> {
    const doc = this.read();
    doc.connectors[connector] = pins;
    await writeFileDurably(this.file, JSON.stringify(doc, null, 2) + '\n', false, 0o600);
  }

  async remove(connector: string): Promise<void> {
    const doc = this.read();
    if (!(connector in doc.connectors)) return;
    delete doc.connectors[connector];
    await writeFileDurably(this.file, JSON.stringify(doc, null, 2) + '\n', false, 0o600);
  }
}
