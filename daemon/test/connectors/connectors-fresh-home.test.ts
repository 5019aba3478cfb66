// `errand connectors add` before the first `errand start`: the home folder does not exist yet (the
// default ~/.local/state/errand right after install). With --env or --header values it must still
// save the connector and its secrets, making the home as start does (owner only, 0700), and a home
// the user made with mkdir (0755) is tightened as start tightens it. A file-system error is a
// sentence that says what to do, not a raw errno.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfigFile } from '../../src/config/load.js';
import { homePaths } from '../../src/config/paths.js';
import { connectorsOnHome, SCRIPTED } from './standalone-connectors.js';

const connectors = connectorsOnHome;

/** A folder for one test; the home inside it is not made. */
function root(): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-fresh-home-')));
}

/** A stdio connector that answers the handshake with one tool (its state file lives outside the home). */
function scriptedServer(dir: string): string[] {
  const state = path.join(dir, 'tools.json');
  const tool = { name: 'look', description: 'Looks.', inputSchema: { type: 'object' } };
  fs.writeFileSync(state, JSON.stringify({ tools: [tool] }));
  return [process.execPath, SCRIPTED, state];
}

const modeOf = (p: string) => fs.statSync(p).mode & 0o777;

describe('errand connectors add on a home that does not exist yet', () => {
  it('with --env: makes the home (0700), saves the secret (0600), pins the tools and adds the connector', async () => {
    const dir = root();
    const home = path.join(dir, 'state', 'errand'); // its parent is missing too
    const r = await connectors(home, [
      'add',
      'gh',
      '--env',
      'GITHUB_TOKEN=ghp_example',
      '--yes',
      '--',
      ...scriptedServer(dir),
    ]);
    expect(r.err).not.toContain('ENOENT');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('Added connector "gh"');
    const paths = homePaths(home);
    expect(modeOf(home)).toBe(0o700);
    expect(modeOf(paths.secrets)).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(paths.secrets, 'utf8'))).toEqual({
      'connector.gh.env.GITHUB_TOKEN': 'ghp_example',
    });
    const saved = readConfigFile(paths.config).connectors as Array<Record<string, unknown>>;
    expect(saved.map((c) => c.name)).toEqual(['gh']);
    expect(JSON.stringify(saved)).not.toContain('ghp_example');
    expect(fs.existsSync(path.join(home, 'connector-pins.json'))).toBe(true);
  });

  it('with --url and --header: saves the header value, disabled with the reason when nothing answers', async () => {
    const dir = root();
    const home = path.join(dir, 'errand');
    const r = await connectors(home, [
      'add',
      'web',
      '--url',
      'http://127.0.0.1:9/mcp',
      '--header',
      'Authorization=Bearer x',
      '--yes',
    ]);
    expect(r.err).not.toContain('ENOENT');
    expect(r.code).toBe(1);
    expect(r.err).toContain('It is saved but disabled');
    expect(modeOf(home)).toBe(0o700);
    expect(JSON.parse(fs.readFileSync(homePaths(home).secrets, 'utf8'))).toEqual({
      'connector.web.header.Authorization': 'Bearer x',
    });
    const saved = readConfigFile(homePaths(home).config).connectors as Array<Record<string, unknown>>;
    expect(saved).toMatchObject([{ name: 'web', enabled: false }]);
  });

  it('a home the user made with mode 0755 is tightened to 0700, as `errand start` does', async () => {
    const dir = root();
    const home = path.join(dir, 'errand');
    fs.mkdirSync(home, { mode: 0o755 });
    fs.chmodSync(home, 0o755); // whatever the umask
    const r = await connectors(home, [
      'add',
      'gh',
      '--env',
      'GITHUB_TOKEN=ghp_example',
      '--yes',
      '--',
      ...scriptedServer(dir),
    ]);
    expect(r.code, r.err).toBe(0);
    expect(modeOf(home)).toBe(0o700);
    expect(modeOf(homePaths(home).secrets)).toBe(0o600);
  });

  it('a file-system error says what to do, and nothing is added', async () => {
    const dir = root();
    const home = path.join(dir, 'errand');
    fs.mkdirSync(path.join(home, 'secrets.json'), { recursive: true }); // a folder where the file belongs
    const r = await connectors(home, [
      'add',
      'gh',
      '--env',
      'GITHUB_TOKEN=ghp_example',
      '--yes',
      '--',
      ...scriptedServer(dir),
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${path.join(home, 'secrets.json')} is a folder where Errand keeps a file`);
    expect(r.err).toContain('The connector was not added.');
    expect(r.err).not.toMatch(/^errand connectors: EISDIR/m);
    expect(readConfigFile(homePaths(home).config).connectors).toBeUndefined();
  });
});
