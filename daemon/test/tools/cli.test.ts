// `errand roots`, `errand allow`, `errand disallow` and `errand connectors` against a running
// tools module over the real control socket: the daemon picks changes up without a restart.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type CliCommand, parseCommandArgs } from '../../src/cli/command.js';
import { allowCommand } from '../../src/cli/commands/allow.js';
import { connectorsCommand } from '../../src/cli/commands/connectors.js';
import { disallowCommand } from '../../src/cli/commands/disallow.js';
import { rootsCommand } from '../../src/cli/commands/roots.js';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness;
afterEach(async () => {
  await h?.close();
});

async function cli(cmd: CliCommand, argv: string[], home = h.home, confirm = false) {
  const out: string[] = [];
  const err: string[] = [];
  const parsed = parseCommandArgs(cmd, argv);
  const code = await cmd.run(
    { values: parsed.values, positionals: parsed.positionals, home },
    {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      env: {},
      interactive: false,
      confirm: async () => confirm,
    },
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function daemon() {
  h = await toolsHarness({ listen: true });
  // This harness runs the tools module alone, so it adds config.reload itself; the daemon's own
  // config.reload is exercised through a real daemon process in spine/cli.test.ts.
  h.control.register('config.reload', async () => {
    h.ctx.reloadConfig();
    return { reloaded: true };
  });
}

describe('errand roots / allow / disallow', () => {
  it('allow adds a folder the running daemon uses at once; disallow removes it', async () => {
    await daemon();
    fs.writeFileSync(path.join(h.outside, 'data.txt'), 'outside data');
    expect((await h.run('fs_read', { path: path.join(h.outside, 'data.txt') })).isError).toBe(true);

    const allowed = await cli(allowCommand, [h.outside]);
    expect(allowed.code).toBe(0);
    expect(allowed.out).toContain(`Allowed ${h.outside}`);
    expect(JSON.parse(fs.readFileSync(h.ctx.paths.config, 'utf8')).roots).toEqual([h.outside]);
    expect(textOf(await h.run('fs_read', { path: path.join(h.outside, 'data.txt') }))).toContain('outside data');

    const again = await cli(allowCommand, [h.outside]);
    expect(again.out).toContain('already allowed');

    const roots = await cli(rootsCommand, []);
    expect(roots.out).toContain('(workspace, always allowed)');
    expect(roots.out).toContain(h.outside);
    const json = JSON.parse((await cli(rootsCommand, ['--json'])).out);
    expect(json.running).toBe(true);
    expect(json.roots.map((r: { path: string }) => r.path)).toEqual([h.ctx.paths.workspace, h.outside]);

    const removed = await cli(disallowCommand, [h.outside]);
    expect(removed.code).toBe(0);
    expect((await h.run('fs_read', { path: path.join(h.outside, 'data.txt') })).isError).toBe(true);
    expect((await cli(disallowCommand, [h.outside])).code).toBe(1);
    expect((await cli(disallowCommand, [h.ctx.paths.workspace])).err).toContain('always allowed');
  });

  it("refuses folders that do not exist, the file system root, and Errand's own state folder", async () => {
    await daemon();
    expect((await cli(allowCommand, [path.join(h.outside, 'nope')])).err).toContain('not an existing folder');
    expect((await cli(allowCommand, ['/'])).err).toContain('whole file system');
    expect((await cli(allowCommand, [h.ctx.paths.journal])).err).toContain("Errand's own state folder");
  });

  it('works without a running daemon, editing config.json', async () => {
    await daemon();
    await h.control.close();
    const r = await cli(allowCommand, [h.outside]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('takes effect when it starts');
    const roots = await cli(rootsCommand, []);
    expect(roots.out).toContain(h.outside);
    expect(roots.out).toContain('daemon is not running');
  });
});

describe('errand allow refuses what would expose Errand or your credentials', () => {
  it('a folder containing the state folder is refused; a folder holding .ssh needs --yes', async () => {
    await daemon();
    const base = path.dirname(h.home); // holds the state folder (home) and the outside folder
    const containing = await cli(allowCommand, [base]);
    expect(containing.code).toBe(1);
    expect(containing.err).toMatch(/contains Errand's own state folder/);
    const keys = path.join(h.outside, 'me');
    fs.mkdirSync(path.join(keys, '.ssh'), { recursive: true });
    const noYes = await cli(allowCommand, [keys]);
    expect(noYes.code).toBe(1);
    expect(noYes.err).toContain(path.join(keys, '.ssh'));
    expect(noYes.err).toContain('--yes');
    expect(JSON.parse(fs.readFileSync(h.ctx.paths.config, 'utf8')).roots ?? []).not.toContain(keys);
    const withYes = await cli(allowCommand, [keys, '--yes']);
    expect(withYes.code).toBe(0);
    expect(JSON.parse(fs.readFileSync(h.ctx.paths.config, 'utf8')).roots).toContain(keys);
  });
});

describe('errand allow refuses a folder holding a hard link to a state file', () => {
  it('a hard link to secrets.json deep in the folder is found and refused, even with --yes; once removed the folder is allowed', async () => {
    await daemon();
    fs.writeFileSync(h.ctx.paths.secrets, '{"gh":"STATE_SECRET"}', { mode: 0o600 });
    const project = path.join(h.outside, 'project');
    fs.mkdirSync(path.join(project, 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(project, 'readme.txt'), 'hello');
    const link = path.join(project, 'a', 'b', 'notes.json');
    fs.linkSync(h.ctx.paths.secrets, link);
    for (const argv of [[project], [project, '--yes']]) {
      const refused = await cli(allowCommand, argv);
      expect(refused.code).toBe(1);
      expect(refused.err).toContain(link);
      expect(refused.err).toMatch(/hard link/);
      expect(refused.err).not.toContain('STATE_SECRET');
      expect(JSON.parse(fs.readFileSync(h.ctx.paths.config, 'utf8')).roots ?? []).not.toContain(project);
    }
    fs.unlinkSync(link);
    const ok = await cli(allowCommand, [project]);
    expect(ok.code, ok.err).toBe(0);
    expect(JSON.parse(fs.readFileSync(h.ctx.paths.config, 'utf8')).roots).toContain(project);
  });
});

describe('errand connectors', () => {
  it('add shows the exact command and needs confirmation; secrets go to secrets.json; list, remove', async () => {
    await daemon();
    const server = path.resolve('node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
    const refused = await cli(connectorsCommand, [
      'add',
      'files',
      '--env',
      'API_TOKEN=tok-12345',
      '--',
      process.execPath,
      server,
      h.outside,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain(
      `Errand will run this command on this computer:\n  API_TOKEN=<secret> ${process.execPath} ${server} ${h.outside}`,
    );
    expect(refused.err).toContain('--yes');
    expect(JSON.parse(fs.readFileSync(h.ctx.paths.config, 'utf8')).connectors).toBeUndefined();

    const added = await cli(connectorsCommand, [
      'add',
      'files',
      '--yes',
      '--env',
      'API_TOKEN=tok-12345',
      '--',
      process.execPath,
      server,
      h.outside,
    ]);
    expect(added.code, added.err).toBe(0);
    expect(added.out).toMatch(/files {2}connected, 14 tools/);
    expect(added.out).toContain('pinned');
    const config = fs.readFileSync(h.ctx.paths.config, 'utf8');
    expect(config).not.toContain('tok-12345');
    expect(JSON.parse(config).connectors[0]).toEqual({
      name: 'files',
      transport: 'stdio',
      command: process.execPath,
      args: [server, h.outside],
      env: { API_TOKEN: 'connector.files.env.API_TOKEN' },
    });
    expect(JSON.parse(fs.readFileSync(h.ctx.paths.secrets, 'utf8'))).toEqual({
      'connector.files.env.API_TOKEN': 'tok-12345',
    });
    expect(fs.statSync(h.ctx.paths.secrets).mode & 0o777).toBe(0o600);
    expect(h.tools.definitions().map((d) => d.name)).toContain('files__list_directory');

    const listed = await cli(connectorsCommand, ['list']);
    expect(listed.out).toContain('files  connected, 14 tools');
    expect(listed.out).not.toContain('tok-12345');
    expect((await cli(connectorsCommand, ['accept', 'files'])).out).toContain('No tool of "files" waits for review');

    const removed = await cli(connectorsCommand, ['remove', 'files']);
    expect(removed.code).toBe(0);
    expect(JSON.parse(fs.readFileSync(h.ctx.paths.secrets, 'utf8'))).toEqual({});
    for (let i = 0; i < 100 && h.tools.connectors.statuses().length; i++) await new Promise((r) => setTimeout(r, 20));
    expect(h.tools.definitions().some((d) => d.name.startsWith('files__'))).toBe(false);
    expect((await cli(connectorsCommand, ['remove', 'files'])).code).toBe(1);
  });

  it('a connector that does not start is named (not found, refused, closed), kept disabled with the reason, and enable tries again', async () => {
    await daemon();
    const wrapper = path.join(h.outside, 'fs-server.sh');
    const missing = await cli(connectorsCommand, ['add', 'files', '--yes', '--', wrapper, h.outside]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/"files" did not start \(not found: the program ".*fs-server\.sh" was not found/);
    expect(missing.err).toContain('errand connectors enable files');
    expect(JSON.parse(fs.readFileSync(h.ctx.paths.config, 'utf8')).connectors[0]).toMatchObject({
      name: 'files',
      enabled: false,
      disabledReason: expect.stringMatching(/^not found: /),
    });
    const listed = await cli(connectorsCommand, ['list']);
    expect(listed.out).toMatch(/files {2}disabled: not found: /);

    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const refused = await cli(connectorsCommand, ['add', 'web', '--yes', '--url', `http://127.0.0.1:${port}/mcp`]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/"web" did not start \(refused: nothing answered at http:\/\/127\.0\.0\.1/);

    const quits = await cli(connectorsCommand, [
      'add',
      'quits',
      '--yes',
      '--',
      process.execPath,
      '-e',
      'process.exit(0)',
    ]);
    expect(quits.code).toBe(1);
    expect(quits.err).toMatch(/"quits" did not start \(closed: /);

    // Fixed: the program exists now. enable checks it again and turns it on.
    const server = path.resolve('node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${server}" "$@"\n`, { mode: 0o755 });
    const enabled = await cli(connectorsCommand, ['enable', 'files', '--yes']);
    expect(enabled.code, enabled.err).toBe(0);
    expect(enabled.out).toContain('Enabled "files" (14 tools)');
    const entry = JSON.parse(fs.readFileSync(h.ctx.paths.config, 'utf8')).connectors[0];
    expect(entry.enabled).toBeUndefined();
    expect(entry.disabledReason).toBeUndefined();
    await expect
      .poll(() => h.tools.definitions().some((d) => d.name === 'files__list_directory'), { timeout: 15_000 })
      .toBe(true);
  });

  it('rejects bad names and missing commands', async () => {
    await daemon();
    expect((await cli(connectorsCommand, ['add', 'Bad Name', '--yes', '--', 'x'])).code).toBe(2);
    expect((await cli(connectorsCommand, ['add', 'ok', '--yes'])).err).toContain('give the server command');
    expect((await cli(connectorsCommand, ['add', 'web', '--yes', '--url', 'not a url'])).code).toBe(2);
  });
});
