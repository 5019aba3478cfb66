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
// A whole 2×2 JPEG (the same as test/helpers/images.ts): images are checked to their end marker.
const JPEG =
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/wAALCAACAAIBAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/ACv/2Q==';

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
