// `errand allow <folder>`: add a root. The daemon picks it up at once, without a restart.
import fs from 'node:fs';
import path from 'node:path';
import { updateConfigFile } from '../../config/load.js';
import { homePaths } from '../../config/paths.js';
import { isInside } from '../../tools/roots.js';
import type { CliCommand } from '../command.js';
import { reloadDaemon } from './roots.js';

export const allowCommand: CliCommand = {
  name: 'allow',
  summary: 'Let the agent work in a folder',
  help: `Usage:
  errand allow <folder>

Adds <folder> to the folders the agent may read and change (its "roots"). Changes the agent makes
there are journaled and can be undone; deletes go to Errand's trash. The running daemon picks the
change up at once. Undo with \`errand disallow <folder>\`.`,
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
      io.err(`errand: ${abs} is not an existing folder.`);
      return 1;
    }
    if (real === path.parse(real).root) {
      io.err('errand: refusing to allow the whole file system; pick a narrower folder.');
      return 1;
    }
    const paths = homePaths(args.home);
    const home = fs.existsSync(paths.home) ? fs.realpathSync(paths.home) : path.resolve(paths.home);
    if (isInside(home, real)) {
      io.err(
        `errand: ${real} is inside Errand's own state folder (${home}); the agent never works there. Its workspace (${paths.workspace}) is always allowed.`,
      );
      return 1;
    }
    let added = false;
    updateConfigFile(args.home, (raw) => {
      const roots = Array.isArray(raw.roots)
        ? (raw.roots as unknown[]).filter((r): r is string => typeof r === 'string')
        : [];
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
    if (isInside(real, home)) io.out(`Note: it contains Errand's state folder ${home}, which stays out of reach.`);
    await reloadDaemon(args.home, io);
    return 0;
  },
};
