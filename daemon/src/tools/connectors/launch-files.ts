// What a stdio connector's server runs: its program when that is a file of its own (a script, a
// built server), each argument naming an existing file (`node ~/proj/server.mjs`), and the package
// folder around each (the nearest folder above with a package.json, pyproject.toml …), whose other
// files the server imports. Errand runs these later, outside the sandbox and with the connector's
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
  for (const c of configs) {
    if (c.transport !== 'stdio') continue;
    // A program path counts even before it exists: a file written there runs at the next start.
    const program = c.command.includes('/') ? realOrNearest(path.resolve(cwd, c.command)) : onPath(c.command, pathVar);
    if (program) files.add(program);
    for (const arg of c.args) {
      const file = arg ? realFile(path.resolve(cwd, arg)) : undefined;
      if (file) files.add(file);
    }
  }
  const folders = new Set<string>();
  for (const f of files) {
    const pkg = packageFolder(f, home);
    if (pkg) folders.add(pkg);
  }
  return { files: [...files], folders: [...folders] };
}
