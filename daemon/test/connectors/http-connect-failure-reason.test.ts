// An HTTP connector that fails at connect says why, in its status and in the daemon's log: an answer
// over the bound, a redirect Errand does not follow, a header too large. The SDK closes the client
// when the handshake fails; that close must not hide the reason as "the server closed the connection".
// A user name and password in the URL are never part of the reason.
import fs from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { homePaths } from '../../src/config/paths.js';
import { ConnectorConfig } from '../../src/config/schema.js';
import { type Standalone, standaloneConnectors, until } from './standalone-connectors.js';

let s: Standalone | undefined;
let server: http.Server | undefined;
const timers = new Set<NodeJS.Timeout>();
afterEach(async () => {
  await s?.close();
  s = undefined;
  for (const t of timers) clearInterval(t);
  timers.clear();
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

/** Each path is one way to fail the first request (initialize). */
function startServer(): Promise<string> {
  server = http.createServer((req, res) => {
    req.resume();
    const mode = req.url?.split('/')[1];
    if (mode === 'endless') {
      // A JSON answer with no length that never ends: cut off at the bound.
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(512 * 1024, 0x20);
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(chunk)), 2);
      timers.add(t);
    } else if (mode === 'redirect') {
      res.writeHead(307, { location: 'http://127.0.0.1:9/elsewhere' }).end();
    } else if (mode === 'hugeheader') {
      res.writeHead(200, { 'content-type': 'application/json', 'x-big': 'a'.repeat(1024 * 1024) }).end('{}');
    } else res.writeHead(404).end();
  });
  return new Promise((resolve) =>
    server!.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server!.address() as net.AddressInfo).port}`)),
  );
}

describe('HTTP connector failing at connect', () => {
  it('names the real reason in the status and the log', async () => {
    const base = await startServer();
    s = await standaloneConnectors();
    await s.manager.apply(
      ['endless', 'redirect', 'hugeheader'].map((m) =>
        ConnectorConfig.parse({ name: m, transport: 'http', url: `${base}/${m}/mcp` }),
      ),
    );
    await s.manager.settled();
    const reasons = Object.fromEntries(
      s.manager.statuses().map((c) => [c.name, `${c.status}: ${c.reason ?? ''}`]),
    ) as Record<string, string>;
    for (const r of Object.values(reasons)) expect(r).not.toContain('the server closed the connection');
    expect(reasons.endless).toMatch(/^failed: an answer while connecting was over 10 MB, so Errand stopped reading it/);
    expect(reasons.redirect).toMatch(/^failed: .*Redirect to http:\/\/127.0.0.1:9\/elsewhere not followed/);
    expect(reasons.hugeheader).toMatch(/^failed: fetch failed: .*UND_ERR_HEADERS_OVERFLOW/);
    const logs = homePaths(s.home).logs;
    const logged = await until(() => {
      const text = fs
        .readdirSync(logs)
        .map((f) => fs.readFileSync(path.join(logs, f), 'utf8'))
        .join('');
      return /over 10 MB/.test(text) && /not followed/.test(text) && text;
    }, 'the reasons in the log');
    expect(logged).not.toContain('the server closed the connection');
  });
});

it('a URL with a user name and password never shows them, in the status or the log', async () => {
  const base = await startServer();
  s = await standaloneConnectors();
  const withLogin = base.replace('http://', 'http://mcpuser:S3cretMcpPass@');
  await s.manager.apply([ConnectorConfig.parse({ name: 'login', transport: 'http', url: `${withLogin}/x/mcp` })]);
  await s.manager.settled();
  const status = s.manager.statuses().find((c) => c.name === 'login')!;
  expect(status.status).toBe('failed');
  expect(status.reason).not.toContain('S3cretMcpPass');
  const logs = homePaths(s.home).logs;
  const logged = await until(() => {
    const text = fs
      .readdirSync(logs)
      .map((f) => fs.readFileSync(path.join(logs, f), 'utf8'))
      .join('');
    return /connector failed/.test(text) && text;
  }, 'the failure in the log');
  expect(logged).not.toContain('S3cretMcpPass');
});
