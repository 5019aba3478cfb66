// The launch command shown and checked at `errand connectors add` is the one the daemon runs,
// whatever folder either was started from: add stores paths to existing files as absolute real
// paths (and says so), a hand-written relative program path is refused, and servers run in the
// home folder, not in the daemon's working folder.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { connectorsCommand } from '../../src/cli/commands/connectors.js';
import { readConfigFile } from '../../src/config/load.js';
import { homePaths } from '../../src/config/paths.js';
import { ConnectorConfig } from '../../src/config/schema.js';
import { type Standalone, standaloneConnectors, until } from './standalone-connectors.js';

const SERVER = path.resolve('daemon/test/connectors/lingering-kids-server.mjs');

let s: Standalone | undefined;
const saved = { cwd: process.cwd(), HOME: process.env.HOME };
const dirs: string[] = [];
afterEach(async () => {
  process.chdir(saved.cwd);
  process.env.HOME = saved.HOME;
  await s?.close();
  s = undefined;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

it('add makes relative paths absolute; the daemon runs those files, in the home folder, from any folder', async () => {
  const base = fs.realpathSync(fs.mkdtempSync('/tmp/errand-conn-rel-'));
  dirs.push(base);
  const proj = path.join(base, 'proj');
  const other = path.join(base, 'other');
  const home = path.join(base, 'home');
  for (const d of [proj, other, home]) fs.mkdirSync(d);
  // The same names in another folder: which one runs shows whether the shown command is the one run.
  for (const d of [proj, other]) {
    fs.copyFileSync(SERVER, path.join(d, 'server.mjs'));
    fs.writeFileSync(path.join(d, 'pids'), '');
  }
  process.env.HOME = home;
  s = await standaloneConnectors({ connectTimeoutMs: 10_000 });
  process.chdir(proj);
  const added = await s.cli(connectorsCommand, ['add', 'rel', '--yes', '--', process.execPath, './server.mjs', 'pids']);
  process.chdir(other);
  expect(added.code).toBe(0);
  expect(added.out).toContain(`${process.execPath} ${path.join(proj, 'server.mjs')} ${path.join(proj, 'pids')}`);
  expect(added.out).toContain(`Paths were made absolute from ${proj}`);
  expect(added.out).toContain(`in ${home}`);
  const raw = readConfigFile(homePaths(s.home).config);
  const cfg = ConnectorConfig.parse((raw.connectors as unknown[])[0]);
  expect(cfg).toMatchObject({
    command: process.execPath,
    args: [path.join(proj, 'server.mjs'), path.join(proj, 'pids')],
  });
  // The check at add time ran proj/server.mjs in the home folder.
  expect(fs.readFileSync(path.join(proj, 'pids'), 'utf8')).toContain(`cwd ${home}\n`);

  // The daemon, started from another folder, runs the same files, in the home folder too.
  fs.writeFileSync(path.join(proj, 'pids'), '');
  await s.manager.apply([cfg]);
  await s.manager.settled();
  expect(s.manager.get('rel')!.status).toBe('connected');
  await until(() => fs.readFileSync(path.join(proj, 'pids'), 'utf8').includes('cwd '), 'the server noted its folder');
  expect(fs.readFileSync(path.join(proj, 'pids'), 'utf8')).toContain(`cwd ${home}\n`);
  expect(fs.readFileSync(path.join(other, 'pids'), 'utf8')).toBe('');
});

it('a relative program path in a hand-edited config is refused with what to write instead', () => {
  const bad = ConnectorConfig.safeParse({ name: 'rel', transport: 'stdio', command: './server', args: [] });
  expect(bad.success).toBe(false);
  expect(bad.error?.issues[0]?.message).toMatch(/must be absolute/);
  expect(ConnectorConfig.safeParse({ name: 'ok', transport: 'stdio', command: 'npx', args: [] }).success).toBe(true);
  expect(ConnectorConfig.safeParse({ name: 'ok', transport: 'stdio', command: '/usr/bin/env', args: [] }).success).toBe(
    true,
  );
});
