// An HTTP connector whose URL holds a user name and password: fetch refuses such a URL, and
// config.json, the status and the log would show it. `errand connectors add` keeps the URL without
// them and sends them as the Authorization header (a secret, in secrets.json); add and `list` (text
// and --json) never print them.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandArgs } from '../../src/cli/command.js';
import { connectorsCommand } from '../../src/cli/commands/connectors.js';
import { readConfigFile } from '../../src/config/load.js';
import { homePaths } from '../../src/config/paths.js';

const PASSWORD = 'S3cretMcpPass';
const BASIC = `Basic ${Buffer.from(`mcpuser:${PASSWORD}`).toString('base64')}`;

/** Not an MCP server: it records the Authorization header of each request and answers 401. */
let server: http.Server;
let port: number;
const seen: Array<string | undefined> = [];
beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.headers.authorization);
    req.resume();
    res.writeHead(401, { 'content-type': 'text/plain' }).end('login required');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function connectors(home: string, argv: string[]) {
  const printed: string[] = [];
  const parsed = parseCommandArgs(connectorsCommand, argv);
  const code = await connectorsCommand.run(
    { values: parsed.values, positionals: parsed.positionals, home },
    {
      out: (t) => printed.push(t),
      err: (t) => printed.push(t),
      env: {},
      interactive: false,
      confirm: async () => false,
    },
  );
  return { code, text: printed.join('\n') };
}

const newHome = () => fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-creds-conn-')));

describe('errand connectors with a URL that holds a password', () => {
  it('sends the login as a Basic header, keeps it only in secrets.json, and never prints it', async () => {
    const home = newHome();
    const plain = `http://127.0.0.1:${port}/mcp`;
    seen.length = 0;
    const added = await connectors(home, [
      'add',
      'web',
      '--url',
      `http://mcpuser:${PASSWORD}@127.0.0.1:${port}/mcp`,
      '--yes',
    ]);
    expect(added.code).toBe(1); // not an MCP server: saved, disabled, with the reason
    expect(added.text).toContain(`Errand will connect to: ${plain} (headers: Authorization)`);
    expect(added.text).toContain('kept in secrets.json as its Authorization header');
    expect(added.text).toContain('It is saved but disabled');
    expect(added.text).not.toContain(PASSWORD);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]).toBe(BASIC);

    const paths = homePaths(home);
    expect(fs.readFileSync(paths.config, 'utf8')).not.toContain(PASSWORD);
    expect(readConfigFile(paths.config).connectors).toMatchObject([
      { name: 'web', url: plain, headers: { Authorization: 'connector.web.header.Authorization' } },
    ]);
    expect(JSON.parse(fs.readFileSync(paths.secrets, 'utf8'))).toEqual({ 'connector.web.header.Authorization': BASIC });

    const listed = await connectors(home, ['list']);
    expect(listed.text).toContain(plain);
    expect(listed.text).not.toContain(PASSWORD);
    const json = await connectors(home, ['list', '--json']);
    expect(json.text).not.toContain(PASSWORD);
  });

  it('a login in the URL and an Authorization header both: refused, nothing saved', async () => {
    const home = newHome();
    const r = await connectors(home, [
      'add',
      'web',
      '--url',
      `http://mcpuser:${PASSWORD}@127.0.0.1:${port}/mcp`,
      '--header',
      'Authorization=Bearer x',
      '--yes',
    ]);
    expect(r.code).toBe(2);
    expect(r.text).toContain('give the login once');
    expect(r.text).not.toContain(PASSWORD);
    expect(fs.existsSync(homePaths(home).config)).toBe(false);
  });

  it('a URL kept in config.json with a login (edited by hand) is listed without it', async () => {
    const home = newHome();
    const url = `http://mcpuser:${PASSWORD}@127.0.0.1:9/mcp`;
    fs.writeFileSync(
      homePaths(home).config,
      JSON.stringify({
        connectors: [{ name: 'web', transport: 'http', url, enabled: false, disabledReason: `failed: ${url}` }],
      }),
    );
    const listed = await connectors(home, ['list']);
    expect(listed.text).toContain('http://127.0.0.1:9/mcp');
    expect(listed.text).not.toContain(PASSWORD);
    const json = await connectors(home, ['list', '--json']);
    expect(JSON.parse(json.text)[0]).toMatchObject({
      launch: 'http://127.0.0.1:9/mcp',
      reason: 'failed: http://127.0.0.1:9/mcp',
    });
    expect(json.text).not.toContain(PASSWORD);
  });
});
