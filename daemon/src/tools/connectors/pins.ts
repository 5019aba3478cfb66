// Tool description pins: the hash of each connector tool's name, description and input schema,
// recorded from the text the person was shown: at `errand connectors add` or `enable`, or when they
// accept a change with `errand connectors accept <name>`. Never on the daemon's first sight: a tool
// with no pin, or whose hash no longer matches, is not offered. The pin covers the tool's
// annotations too. The text accepted is kept beside the hash, so a later change can be shown as
// what changed.
import fs from 'node:fs';
import path from 'node:path';
import type { ConnectorToolText } from '../../control/protocol.js';
import { writeFileDurably } from '../../util/durable-file.js';
import { actionHash } from '../util.js';

type PinsDoc = {
  schema: 1;
  connectors: Record<string, Record<string, string>>;
  /** Per connector and tool, the text the pin was made from (absent for pins made before it was kept). */
  texts?: Record<string, Record<string, ConnectorToolText>>;
};

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

/** Where a home keeps its connector pins (the CLI writes them at add; the daemon reads them). */
export const pinsFile = (home: string): string => path.join(home, 'connector-pins.json');

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

  /** The text each tool's pin was made from, where it is known. */
  texts(connector: string): Record<string, ConnectorToolText> {
    return this.read().texts?.[connector] ?? {};
  }

  /** Replace a connector's pins, and the texts they were made from (kept as they are when not given). */
  async set(connector: string, pins: Record<string, string>, texts?: Record<string, ConnectorToolText>): Promise<void> {
    const doc = this.read();
    doc.connectors[connector] = pins;
    if (texts) doc.texts = { ...doc.texts, [connector]: texts };
    await writeFileDurably(this.file, JSON.stringify(doc, null, 2) + '\n', false, 0o600);
  }

  async remove(connector: string): Promise<void> {
    const doc = this.read();
    if (!(connector in doc.connectors)) return;
    delete doc.connectors[connector];
    delete doc.texts?.[connector];
    await writeFileDurably(this.file, JSON.stringify(doc, null, 2) + '\n', false, 0o600);
  }
}
