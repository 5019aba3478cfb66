// A careless MCP server (the SDK over stdio) for escaped-secrets-and-bad-images.test.ts: `env`
// prints its secrets as JSON and in a URL, as server-everything's get-env does; `env_structured`
// answers only with structured content holding a JSON string; `chart` answers with an "image/png"
// that is text, `photo` with a real JPEG it calls image/png. With CRASH_WITH_ENV set it prints its
// secrets as JSON on stderr and exits, before any handshake.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const secrets = { DB_PASSWORD: process.env.DB_PASSWORD, GITHUB_TOKEN: process.env.GITHUB_TOKEN };
if (process.env.CRASH_WITH_ENV) {
  process.stderr.write(`fatal: bad config ${JSON.stringify(secrets)}\n`);
  process.exit(1);
}
// The first bytes of a JPEG (enough for its signature; the scripted API checks no more).
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0]).toString('base64');

const server = new Server({ name: 'leaky', version: '1.0.0' }, { capabilities: { tools: {} } });
const tool = (name) => ({ name, description: `The ${name} tool.`, inputSchema: { type: 'object', properties: {} } });
server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [tool('env'), tool('env_structured'), tool('chart'), tool('photo')],
}));
server.setRequestHandler(CallToolRequestSchema, async (req) => {
  switch (req.params.name) {
    case 'env':
      return {
        content: [
          { type: 'text', text: JSON.stringify(secrets, null, 2) },
          { type: 'text', text: `login: https://db.example/?password=${encodeURIComponent(secrets.DB_PASSWORD)}` },
        ],
      };
    case 'env_structured':
      return { content: [], structuredContent: { dump: JSON.stringify(secrets) } };
    case 'chart':
      return {
        content: [
          { type: 'text', text: 'Here is the chart.' },
          { type: 'image', mimeType: 'image/png', data: Buffer.from('this is not a png').toString('base64') },
        ],
      };
    default:
      return { content: [{ type: 'image', mimeType: 'image/png', data: JPEG }] };
  }
});
await server.connect(new StdioServerTransport());
