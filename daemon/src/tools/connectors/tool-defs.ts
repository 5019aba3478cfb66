// A connector's tools as the model sees them, and the bound on what one connector may add to every
// request. Tool definitions are the server's text: a 3 MB schema or 3,000 tools would make every
// task of every thread too large to send, so tools past these bounds are left out and named in the
// connector's status.
import type { Tool } from '@modelcontextprotocol/client';
import { EMOJI_FORMAT } from '../../../../shared/src/visible-text.js';
import type { ConnectorToolText } from '../../control/protocol.js';
import { REDACTED, redactText } from '../redact.js';
import { clip } from '../util.js';

/** One tool's definition (name, title, description, input schema, annotations) as JSON, at most. */
export const MAX_TOOL_DEFINITION_BYTES = 8 * 1024;
/** What one connector offers the model, at most. */
export const MAX_CONNECTOR_TOOLS = 100;
export const MAX_CONNECTOR_DEFINITION_BYTES = 64 * 1024;
const MAX_MODEL_DESCRIPTION = 2000;

/**
 * The names MCP recommends for tools (letters, digits, _ - . and /, up to 128). Anything else (an
 * escape sequence, a direction mark, a line break) would be printed in `errand connectors` and on
 * the phone; such a tool is left out rather than shown rewritten.
 */
const TOOL_NAME = /^[A-Za-z0-9_./-]{1,128}$/;

/**
 * The characters used to smuggle words past a reader: tag characters (U+E0000–E007F, an invisible
 * copy of ASCII that a model reads as words) and variation selectors outside emoji (each can hide a
 * byte after any letter). Neither has a use in a tool's text. Shown as escapes, they would still read
 * as noise rather than as the instruction the model gets, so such a tool is left out, not offered.
 */
const SMUGGLING = new RegExp(
  String.raw`[\u{e0000}-\u{e007f}]|(?!${EMOJI_FORMAT})[\ufe00-\ufe0f\u{e0100}-\u{e01ef}]`,
  'u',
);

export function modelDescription(connector: string, tool: Tool): string {
  return clip(`[${connector} connector] ${tool.description ?? tool.title ?? tool.name}`, MAX_MODEL_DESCRIPTION);
}

export function modelSchema(tool: Tool): Record<string, unknown> & { type: 'object' } {
  return { ...(tool.inputSchema as Record<string, unknown>), type: 'object' };
}

/** The text a person reviews: the description and schema exactly as the model is sent them, and the annotations Errand acts on. */
export function toolText(connector: string, tool: Tool): ConnectorToolText {
  return {
    ...(tool.title !== undefined ? { title: tool.title } : {}),
    description: modelDescription(connector, tool),
    inputSchema: modelSchema(tool),
    ...(tool.annotations !== undefined ? { annotations: tool.annotations } : {}),
  };
}

/** Secrets shorter than this are not looked for: a short value would blank ordinary words (as the tool runtime). */
const MIN_SECRET = 8;

/** Every string in `v` (keys too) with the secrets in it redacted. */
function redactDeep(v: unknown, values: string[]): unknown {
  if (typeof v === 'string') return redactText(v, { values, tokenHashes: new Set() });
  if (Array.isArray(v)) return v.map((x) => redactDeep(x, values));
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [redactText(k, { values, tokenHashes: new Set() }), redactDeep(x, values)]),
    );
  return v;
}

/**
 * A tool with known secrets taken out of its text (title, description, schema, annotations), so a
 * careless server's "connected with key …" is neither pinned, shown, nor sent to the model. The name
 * is kept: it is what Errand calls the tool by.
 */
export function redactTool(tool: Tool, secrets: string[]): Tool {
  const values = secrets.filter((s) => s.length >= MIN_SECRET);
  if (!values.length) return tool;
  const { name, ...rest } = tool;
  return { name, ...(redactDeep(rest, values) as Omit<Tool, 'name'>) };
}

const definitionJson = (t: Tool): string =>
  JSON.stringify({
    name: t.name,
    title: t.title,
    description: t.description,
    inputSchema: t.inputSchema,
    annotations: t.annotations,
  });
const definitionBytes = (t: Tool): number => Buffer.byteLength(definitionJson(t));

const kb = (n: number) =>
  n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MB` : `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
const some = (names: string[]) =>
  names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/**
 * The tools a connector may offer, in the server's order: names that could not be shown safely or
 * hold one of `secrets`, a name listed twice, text with characters used to smuggle words (SMUGGLING)
 * and definitions over MAX_TOOL_DEFINITION_BYTES are left out; then tools
 * past MAX_CONNECTOR_TOOLS or MAX_CONNECTOR_DEFINITION_BYTES in all. `leftOut` says what and why.
 */
export function boundTools(listed: Tool[], secrets: string[] = []): { kept: Tool[]; leftOut?: string } {
  const values = secrets.filter((s) => s.length >= MIN_SECRET);
  const kept: Tool[] = [];
  const seen = new Set<string>();
  let badNames = 0;
  const secretNames: string[] = [];
  let twice = 0;
  let smuggling = 0;
  const tooBig: string[] = [];
  let overBudget = 0;
  let total = 0;
  for (const tool of listed) {
    if (typeof tool.name !== 'string' || !TOOL_NAME.test(tool.name)) {
      badNames++;
      continue;
    }
    // A name cannot be redacted (it is how Errand calls the tool), so a tool named with a secret is
    // left out, and named here only with the secret taken out.
    const shownName = values.length ? redactText(tool.name, { values, tokenHashes: new Set() }) : tool.name;
    if (shownName !== tool.name) {
      secretNames.push(shownName);
      continue;
    }
    if (seen.has(tool.name)) {
      twice++;
      continue;
    }
    seen.add(tool.name);
    if (SMUGGLING.test(definitionJson(tool))) {
      smuggling++;
      continue;
    }
    const size = definitionBytes(tool);
    if (size > MAX_TOOL_DEFINITION_BYTES) {
      tooBig.push(`${tool.name} (${kb(size)})`);
      continue;
    }
    if (kept.length >= MAX_CONNECTOR_TOOLS || total + size > MAX_CONNECTOR_DEFINITION_BYTES) {
      overBudget++;
      continue;
    }
    total += size;
    kept.push(tool);
  }
  const why: string[] = [];
  if (tooBig.length) why.push(`${some(tooBig)}: a tool's definition may be at most ${kb(MAX_TOOL_DEFINITION_BYTES)}`);
  if (overBudget)
    why.push(
      `${plural(overBudget, 'more tool')}: a connector offers at most ${MAX_CONNECTOR_TOOLS} tools and ${kb(MAX_CONNECTOR_DEFINITION_BYTES)} of tool definitions`,
    );
  if (badNames)
    why.push(`${plural(badNames, 'tool')} named with characters other than A-Z a-z 0-9 _ . - / or over 128 long`);
  if (secretNames.length)
    why.push(
      `${some(secretNames)}: a tool named with a known secret (shown here as ${REDACTED}) is not offered, since Errand calls a tool by its name and cannot take the secret out; ask the server's author to rename it`,
    );
  if (twice) why.push(`${plural(twice, 'tool')} listed twice under one name`);
  if (smuggling)
    why.push(
      `${plural(smuggling, 'tool')} with invisible tag characters or variation selectors in the text (words a person cannot read but the model would)`,
    );
  const out = tooBig.length + overBudget + badNames + secretNames.length + twice + smuggling;
  return { kept, ...(out ? { leftOut: `${plural(out, 'tool')} left out: ${why.join('; ')}` } : {}) };
}
