// The forms a stdio connector's launch takes, as people write them (a re-audit got around a first
// version that took only arguments naming existing files): what each runs is a "runs later" file,
// and a folder a server only serves is not.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { ConnectorConfig } from '../../src/config/schema.js';
import { connectorLaunchFiles } from '../../src/tools/connectors/launch-files.js';
import { lastingKind, setConnectorLaunchFiles } from '../../src/tools/lasting-files.js';

const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-launch-forms-')));
const owner = {};
afterAll(() => {
  setConnectorLaunchFiles(owner, [], []);
  fs.rmSync(base, { recursive: true, force: true });
});

const stdio = (command: string, args: string[]): ConnectorConfig =>
  ({ name: 'c', transport: 'stdio', command, args, env: {}, enabled: true }) as unknown as ConnectorConfig;
const write = (rel: string, text = '// code\n') => {
  fs.mkdirSync(path.dirname(path.join(base, rel)), { recursive: true });
  fs.writeFileSync(path.join(base, rel), text);
};

it('covers imports beside a script, program folders, flag values, sh -c words, uv --directory and files not built yet', () => {
  write('mcp/srv.mjs', "import './lib.mjs';\n");
  write('mcp/lib.mjs');
  write('pkgdir/index.js');
  write('hooks/preload.mjs');
  write('shsrv/run.mjs');
  write('pysrv/pyproject.toml', '[project]\nname = "s"\n');
  write('pysrv/server.py');
  fs.mkdirSync(path.join(base, 'later'), { recursive: true });
  write('Documents/notes.txt', 'my notes\n');
  write('cfg/server.json', '{}\n');
  const launch = connectorLaunchFiles(
    [
      stdio('node', [path.join(base, 'mcp/srv.mjs')]),
      stdio('node', [path.join(base, 'pkgdir')]),
      stdio('node', [`--import=${path.join(base, 'hooks/preload.mjs')}`, 'x']),
      stdio('sh', ['-c', `node ${path.join(base, 'shsrv/run.mjs')} --stdio`]),
      stdio('uv', ['--directory', path.join(base, 'pysrv'), 'run', 'server.py']),
      stdio('node', [path.join(base, 'later/dist/index.js')]),
      stdio('npx', ['-y', '@modelcontextprotocol/server-filesystem', path.join(base, 'Documents')]),
      stdio('srv', ['--config', path.join(base, 'cfg/server.json')]),
    ],
    base,
  );
  setConnectorLaunchFiles(owner, launch.files, launch.folders);
  for (const rel of [
    'mcp/lib.mjs',
    'mcp/new.mjs',
    'pkgdir/index.js',
    'pkgdir/util.js',
    'hooks/preload.mjs',
    'shsrv/run.mjs',
    'pysrv/server.py',
    'pysrv/helpers.py',
    'later/dist/index.js',
  ])
    expect({ rel, kind: lastingKind(path.join(base, rel)) }).toEqual({ rel, kind: 'runs-later' });
  // A folder a server only serves holds the person's files, not code Errand runs.
  expect(lastingKind(path.join(base, 'Documents/notes.txt'))).toBeUndefined();
  // A data file an argument names is covered itself; its folder's other files are not.
  expect(lastingKind(path.join(base, 'cfg/server.json'))).toBe('runs-later');
  expect(lastingKind(path.join(base, 'cfg/other.json'))).toBeUndefined();
});
