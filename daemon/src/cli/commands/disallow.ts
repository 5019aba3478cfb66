// `errand disallow <folder>`: remove a root. The daemon stops using it at once.
import fs from 'node:fs';
import path from 'node:path';
import { updateConfigFile } from '../../config/load.js';
import { homePaths } from '../../config/paths.js';
import type { CliCommand } from '../command.js';
import { reloadDaemon } from './roots.js';
import { rootsInConfig } from './roots-in-config.js';

const same = (a: string, b: string) => {
  const norm = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  return path.resolve(a) === path.resolve(b) || norm(a) === norm(b);
};

export const disallowCommand: CliCommand = {
  name: 'disallow',
  summary: 'Stop the agent from working in a folder',
  help: `Usage:
  errand disallow <folder>

Removes <folder> from the agent's roots. The running daemon refuses paths in it from now on.
The workspace folder cannot be removed.`,
  allowPositionals: true,
  async run(args, io) {
    if (args.positionals.length !== 1) {
      io.err('Usage: errand disallow <folder>');
      return 2;
    }
    const target = path.resolve(args.positionals[0]);
    if (same(target, homePaths(args.home).workspace)) {
      io.err('errand disallow: the workspace folder is always allowed; it cannot be removed.');
      return 1;
    }
    let removed: string[] = [];
    updateConfigFile(args.home, (raw) => {
      const roots = rootsInConfig(raw, homePaths(args.home).config, 'errand disallow <folder>');
      removed = roots.filter((r) => same(r, target));
      raw.roots = roots.filter((r) => !same(r, target));
    });
    if (!removed.length) {
      io.err(`errand disallow: ${target} is not an allowed folder (see \`errand roots\`).`);
      return 1;
    }
    io.out(`Removed ${removed.join(', ')} from the allowed folders.`);
    await reloadDaemon(args.home, io);
    return 0;
  },
};
