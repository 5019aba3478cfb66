// What a stdio connector's server runs: its program when that is a file of its own (a script, a
// built server), each path an argument names (`node ~/proj/server.mjs`, `--import=./x.mjs`, a word
// of `sh -c "…"`, a file not built yet), the folder holding each such file and the package folder
// around it (the nearest folder above with a package.json, pyproject.toml …), whose other files the
// server imports, and a folder argument that is a program (a package, an index file: `node ./pkg`,
// `uv --directory`); not a folder a server only serves (server-filesystem ~/Documents). Errand runs these later, outside the sandbox and with the connector's
// secrets, so a change to one in a tainted thread asks like a change to .bashrc (lasting-files.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConnectorConfig } from '../../config/schema.js';
import { scrubbedEnv } from '../shell.js';

/** Files that make a folder a package: its other files are what the server imports. */
const PACKAGE_MARKERS = ['package.json', 'deno.json', 'pyproject.toml', 'setup.py', 'Cargo.toml', 'go.mod', 'Gemfile'];

const realFile = (p: string): string | undefined => {
  try {
    const real = fs.realpathSync.native(p);
    return fs.statSync(real).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
};

/** The real path of `p`; for one not there yet, of its deepest existing folder with the rest appended (as roots.ts). */
function realOrNearest(p: string): string {
  const rest: string[] = [];
  for (let at = p; ; at = path.dirname(at)) {
    try {
      return path.join(fs.realpathSync.native(at), ...rest);
    } catch {
      if (path.dirname(at) === at) return p;
      rest.unshift(path.basename(at));
    }
  }
}

/** A program name looked up as execvp would, on `pathVar`. */
function onPath(name: string, pathVar: string): string | undefined {
  for (const dir of pathVar.split(path.delimiter)) {
    if (!path.isAbsolute(dir)) continue;
    const found = realFile(path.join(dir, name));
    if (found) return found;
  }
  return undefined;
}

/** The nearest folder at or above `file`'s own holding a package marker, below the home folder and /. */
function packageFolder(file: string, home: string): string | undefined {
  for (let dir = path.dirname(file); dir !== path.dirname(dir) && dir !== home; dir = path.dirname(dir))
    if (PACKAGE_MARKERS.some((m) => fs.existsSync(path.join(dir, m)))) return dir;
  return undefined;
}

/** Files whose presence makes a folder given as an argument a program (`node ./pkg`, `uv --directory`). */
const PROGRAM_IN_FOLDER = [
  ...PACKAGE_MARKERS,
  'index.js',
  'index.mjs',
  'index.cjs',
  'index.ts',
  'main.py',
  '__main__.py',
];

/**
 * The words of an argument that may name a path: the argument itself, the value of `--flag=value`
 * (`--import=./x.mjs`), and each word of one holding spaces (`sh -c "node ~/mcp/srv.mjs"`).
 */
function pathWords(arg: string): string[] {
  const words = new Set<string>([arg]);
  const eq = arg.indexOf('=');
  if (arg.startsWith('-') && eq > 0) words.add(arg.slice(eq + 1));
  if (/\s/.test(arg)) for (const w of arg.split(/[\s;&|()]+/)) if (w) words.add(w.replace(/^['"]|['"]$/g, ''));
  return [...words].filter((w) => w.includes('/') || w.startsWith('.'));
}

/** Data an argument may name; anything else (a script, a program without an extension) is a program. */
const DATA_EXTENSIONS = new Set([
  '.json',
  '.jsonc',
  '.yaml',
  '.yml',
  '.toml',
  '.txt',
  '.md',
  '.csv',
  '.env',
  '.ini',
  '.conf',
  '.db',
  '.sqlite',
  '.log',
]);
const isProgram = (file: string) => !DATA_EXTENSIONS.has(path.extname(file).toLowerCase());

const isDir = (p: string) => {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** The files and folders the stdio connectors among `configs` run, as real paths (relative ones from `cwd`). */
export function connectorLaunchFiles(
  configs: ConnectorConfig[],
  cwd: string,
  pathVar = scrubbedEnv().PATH ?? '',
): { files: string[]; folders: string[] } {
  const home = (() => {
    try {
      return fs.realpathSync.native(os.homedir());
    } catch {
      return os.homedir();
    }
  })();
  const files = new Set<string>();
  const folders = new Set<string>();
  /**
   * A program's own folder holds what it imports (`./lib.mjs`), unless that is the home folder or /.
   * A data file an argument names (`--config desc.json`) is covered alone, its folder not.
   */
  const withItsFolder = (file: string) => {
    files.add(file);
    const dir = path.dirname(file);
    if (isProgram(file) && dir !== home && dir !== path.dirname(dir)) folders.add(dir);
  };
  for (const c of configs) {
    if (c.transport !== 'stdio') continue;
    // A program path counts even before it exists: a file written there runs at the next start.
    if (c.command.includes('/')) withItsFolder(realOrNearest(path.resolve(cwd, c.command)));
    else {
      const program = onPath(c.command, pathVar);
      if (program) files.add(program);
    }
    for (const arg of c.args)
      for (const word of pathWords(arg)) {
        const named = realOrNearest(path.resolve(cwd, word.startsWith('~/') ? path.join(home, word.slice(2)) : word));
        if (isDir(named)) {
          // A folder that is a program (a package, an index file) runs; one a server only serves does not.
          if (named !== home && PROGRAM_IN_FOLDER.some((m) => fs.existsSync(path.join(named, m)))) folders.add(named);
        } else withItsFolder(named); // a file, or one not there yet (`dist/index.js` before a build)
      }
  }
  for (const f of files) {
    const pkg = packageFolder(f, home);
    if (pkg) folders.add(pkg);
  }
  return { files: [...files], folders: [...folders] };
}
