// A tiny MCP server for the connector tests: `greet` takes its description from a file (re-read on
// SIGUSR2, which sends tools/list_changed) and its annotations from --annotations=<JSON file> (also
// re-read on SIGUSR2), and answers with $GREETING; `stable` never changes.
import fs from 'node:fs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

const descFile = process.argv[2];
const read = () => fs.readFileSync(descFile, 'utf8').trim();
const annFile = process.argv.find((a) => a.startsWith('--annotations='))?.slice('--annotations='.length);
const annotations = () => (annFile ? JSON.parse(fs.readFileSync(annFile, 'utf8')) : undefined);
const server = new McpServer({ name: 'fixture', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
const greet = server.registerTool('greet', { description: read(), annotations: annotations() }, async () => ({
  content: [{ type: 'text', text: `hello ${process.env.GREETING ?? 'nobody'}` }],
}));
server.registerTool('stable', { description: 'Always the same.', annotations: { readOnlyHint: true } }, async () => ({
  content: [{ type: 'text', text: 'stable answer' }],
}));
process.on('SIGUSR2', () => greet.update({ description: read(), annotations: annotations() }));
await server.connect(new StdioServerTransport());
