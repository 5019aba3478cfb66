// `errand allow <folder>`: add a root. The daemon picks it up at once, without a restart.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { updateConfigFile } from '../../config/load.js';
import { homePaths } from '../../config/paths.js';
import { isInside } from '../../tools/roots.js';
import { hardLinksToState } from '../../tools/state-links.js';
import type { CliCommand } from '../command.js';
import { reloadDaemon } from './roots.js';
import { rootsInConfig } from './roots-in-config.js';

export const allowCommand: CliCommand = {
  name: 'allow',
  summary: 'Let the agent work in a folder',
  help: `Usage:
  errand allow <folder> [--yes]

Adds <folder> to the folders the agent may read and change (its "roots"). Changes the agent makes
there are journaled and can be undone; deletes go to Errand's trash. The running daemon picks the
change up at once. Undo with \`errand disallow <folder>\`.

Refused: the whole file system, a folder inside or containing Errand's own state folder, a folder
holding a hard link to one of Errand's state files. Your home
folder, or a folder holding keys and credentials (.ssh, .gnupg, .aws, …), needs --yes.`,
  options: { yes: { type: 'boolean', short: 'y' } },
  allowPositionals: true,
  async run(args, io) {
    if (args.positionals.length !== 1) {
      io.err('Usage: errand allow <folder>');
      return 2;
    }
    const abs = path.resolve(args.positionals[0]);
    let real: string;
    try {
      real = fs.realpathSync(abs);
      if (!fs.statSync(real).isDirectory()) throw new Error('not a folder');
    } catch {
      io.err(`errand allow: ${abs} is not an existing folder.`);
      return 1;
    }
    if (real === path.parse(real).root) {
      io.err('errand allow: refusing to allow the whole file system; pick a narrower folder.');
      return 1;
    }
    const paths = homePaths(args.home);
    const home = fs.existsSync(paths.home) ? fs.realpathSync(paths.home) : path.resolve(paths.home);
    if (isInside(home, real)) {
      io.err(
        `errand allow: ${real} is inside Errand's own state folder (${home}); the agent never works there. Its workspace (${paths.workspace}) is always allowed.`,
      );
      return 1;
    }
    if (isInside(real, home)) {
      io.err(
        `errand allow: ${real} contains Errand's own state folder (${home}), where its keys, tokens and journal live; the agent must never reach it. Pick a narrower folder, or move Errand's state elsewhere (ERRAND_HOME) first.`,
      );
      return 1;
    }
    const linked = hardLinksToState(
      real,
      home,
      fs.existsSync(paths.workspace) ? fs.realpathSync(paths.workspace) : paths.workspace,
    );
    if (linked.links.length) {
      const [link, target] = linked.links[0];
      io.err(
        `errand allow: ${link} is another name (a hard link) for ${target} in Errand's own state folder${linked.links.length > 1 ? ` (and ${linked.links.length - 1} more)` : ''}: the agent could read or change Errand's keys and tokens through it. Remove the link first.`,
      );
      return 1;
    }
    if (!linked.complete && args.values.yes !== true) {
      io.err(
        `errand allow: ${real} is too large to check whole for hard links into Errand's state folder (${home}). Pick a narrower folder, or run again with --yes if you are sure it holds none.`,
      );
      return 1;
    }
    const sensitive = credentialsIn(real);
    if (sensitive.length && args.values.yes !== true) {
      io.err(
        `errand allow: ${real} holds ${sensitive.join(', ')}: the agent could read and change your keys and credentials there. Pick a narrower folder, or run again with --yes if you mean it.`,
      );
      return 1;
    }
    let added = false;
    updateConfigFile(args.home, (raw) => {
      const roots = rootsInConfig(raw, homePaths(args.home).config, 'errand allow <folder>');
      const same = roots.some((r) => {
        try {
          return fs.realpathSync(r) === real;
        } catch {
          return path.resolve(r) === real;
        }
      });
      if (!same) {
        roots.push(real);
        added = true;
      }
      raw.roots = roots;
    });
    if (!added) {
      io.out(`${real} is already allowed.`);
      return 0;
    }
    io.out(`Allowed ${real}. The agent may now read and change files there (changes are journaled and undoable).`);
    await reloadDaemon(args.home, io);
    return 0;
  },
};

/** Folders with keys and credentials: allowing one of them, or a folder holding them, needs --yes. */
const CREDENTIALS = [
  '.ssh',
  '.gnupg',
  '.aws',
  '.azure',
  '.kube',
  '.docker',
  '.config/gcloud',
  '.password-store',
  '.netrc',
];

function credentialsIn(folder: string): string[] {
  const found: string[] = [];
  if (folder === fs.realpathSync(os.homedir())) found.push('your home folder');
  for (const name of CREDENTIALS) {
    const own = path.basename(folder) === name || folder.endsWith(`${path.sep}${name}`);
    if (own || fs.existsSync(path.join(folder, name))) found.push(own ? name : path.join(folder, name));
  }
  return found;
}
