// An HTTP connector's answer is streamed and cut off past 10 MB (as the stdio transport cuts a
// message), whether it comes as one JSON body or as an event in an event stream; the call fails
// at once with the reason, and the connector keeps working.
import http from 'node:http';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectorConfig } from '../../src/config/schema.js';
import { ToolError } from '../../src/tools/util.js';
import { type Standalone, standaloneConnectors } from './standalone-connectors.js';

let s: Standalone | undefined;
let server: http.Server | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

const BIG_MB = 30;
/** How each big answer ended: finished means the server wrote all of it. */
const answers: Array<{ mode: string; finished: boolean }> = [];

/** A streamable-HTTP MCP server in raw JSON-RPC: tools/call `json` and `sse` answer with 30 MB. */
function startServer(): Promise<string> {
  server = http.createServer((req, res) => {
    if (req.method !== 'POST') return res.writeHead(405).end();
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const m = JSON.parse(body);
      if (m.id === undefined) return res.writeHead(202).end();
      const json = (result: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }));
      };
      if (m.method === 'initialize')
        return json({
          protocolVersion: m.params.protocolVersion,
          capabilities: { tools: {} },
          serverInfo: { name: 'big', version: '1' },
        });
      if (m.method === 'tools/list')
        return json({ tools: ['json', 'sse', 'small'].map((name) => ({ name, inputSchema: { type: 'object' } })) });
      if (m.method !== 'tools/call') return json({});
      const mode = m.params.name as string;
      if (mode === 'small') return json({ content: [{ type: 'text', text: 'small answer' }] });
      const sse = mode === 'sse';
      res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : 'application/json' });
      const head = `{"jsonrpc":"2.0","id":${JSON.stringify(m.id)},"result":{"content":[{"type":"text","text":"`;
      res.write(sse ? `event: message\ndata: ${head}` : head);
      const chunk = 'A'.repeat(1 << 20);
      let sent = 0;
      res.on('close', () => answers.push({ mode, finished: res.writableFinished }));
      const pump = () => {
        while (sent < BIG_MB) {
          if (res.destroyed) return;
          sent++;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end(sse ? '"}]}}\n\n' : '"}]}}');
      };
      pump();
    });
  });
  return new Promise((resolve) =>
    server!.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server!.address() as net.AddressInfo).port}/mcp`),
    ),
  );
}

describe('HTTP connector answers', () => {
  it('an answer over 10 MB is cut off, as JSON or as an event, and the call fails with the reason', async () => {
    const url = await startServer();
    s = await standaloneConnectors();
    await s.manager.apply([ConnectorConfig.parse({ name: 'web', transport: 'http', url })]);
    await s.manager.settled();
    const conn = s.manager.get('web')!;
    expect(conn.status).toBe('connected');
    const call = (tool: string) => conn.call(tool, {}, new AbortController().signal, 60_000);

    for (const mode of ['json', 'sse']) {
      const t0 = Date.now();
      const err = await call(mode).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err, mode).toBeInstanceOf(ToolError);
      expect(err!.message).toMatch(
        /The web connector failed: the connector's answer was over 10 MB, so Errand stopped reading it/,
      );
      // Failed at once, not after the call's time limit.
      expect(Date.now() - t0).toBeLessThan(20_000);
      await expect.poll(() => answers.find((a) => a.mode === mode)).toEqual({ mode, finished: false });
    }
    expect(conn.status).toBe('connected');
    const small = await call('small');
    expect(small.content).toEqual([{ type: 'text', text: 'small answer' }]);
  });
});
