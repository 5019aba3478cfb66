// The tool list as a model request carries it. Each tool's wire form is the same object from task to
// task while its definition is unchanged, so request-body.ts's kept bytes of it serve every task:
// re-encoding the whole list was most of the encoding (and the garbage) of a task's first request.
import { askUserTool } from './prompt.js';
import type { ModelToolDefinition } from './tool-runtime.js';
import type { ServerTool, WireTool } from './wire.js';

/** Keyed by the definition's input schema: a definition object itself may be a fresh copy each time. */
const wireOf = new WeakMap<object, WireTool>();

function wireTool(d: ModelToolDefinition): WireTool | ServerTool {
  if (d.apiType) return { type: d.apiType, name: d.name };
  const kept = wireOf.get(d.input_schema);
  if (kept && kept.name === d.name && kept.description === d.description) return kept;
  const wire: WireTool = { name: d.name, description: d.description, input_schema: d.input_schema };
  wireOf.set(d.input_schema, wire);
  return wire;
}

/** ask_user comes last and carries the list's prompt-cache breakpoint. */
const askUserLast: WireTool = { ...askUserTool, cache_control: { type: 'ephemeral' } };

/** The tools for a task's requests: never changed in place (a shared object would change every task's). */
export function wireTools(defs: ModelToolDefinition[]): Array<WireTool | ServerTool> {
  return [...defs.map(wireTool), askUserLast];
}
