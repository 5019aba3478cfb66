// The tool definitions are most of every model request's body. One character above U+00FF in them
// (a "…" in a description) makes V8 hold the whole serialized body as a two-byte string: twice the
// bytes to build, copy and encode on every model call. User text may need it; our own text does not.
import { afterEach, expect, it } from 'vitest';
import { withScheduleTool } from '../../src/schedules/agent-tool.js';
import { type ToolsHarness, toolsHarness } from './helpers.js';

let h: ToolsHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it('built-in tool definitions (schedule tool included) are Latin-1 text', async () => {
  h = await toolsHarness({ config: { memory: { enabled: true } } });
  const tools = withScheduleTool(h.tools, {} as never);
  const defs = tools.definitions();
  expect(defs.map((d) => d.name)).toEqual(expect.arrayContaining(['fs_read', 'shell', 'schedule_create']));
  for (const d of defs) {
    const wide = [...JSON.stringify(d)].filter((c) => c.charCodeAt(0) > 0xff);
    expect({ tool: d.name, wide }).toEqual({ tool: d.name, wide: [] });
  }
});
