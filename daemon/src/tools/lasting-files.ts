// Files whose change outlives the thread: instruction files every later task reads (CLAUDE.md,
// AGENTS.md), and files other programs run or load on their own later, outside the sandbox and
// without the person deciding to run them (git hooks and config, shell start-up files, direnv,
// ssh, login services, editor and package-manager config, Python .pth files). A change to one in a
// thread that read untrusted content asks, shows the whole content, and is granted only exactly.
import fs from 'node:fs';
import path from 'node:path';
import { INSTRUCTION_FILES } from '../agent/instructions.js';

export type LastingKind = 'instructions' | 'runs-later';

const INSTRUCTIONS = new Set(INSTRUCTION_FILES.map((n) => n.toLowerCase()));

/** Files run or loaded by a program the person starts for another reason (a shell, git, npm, vim …). */
const RUNS_LATER_NAMES = new Set([
  // shells
  '.profile',
  '.bashrc',
  '.bash_profile',
  '.bash_login',
  '.bash_logout',
  '.bash_aliases',
  '.zshrc',
  '.zshenv',
  '.zprofile',
  '.zlogin',
  '.zlogout',
  '.kshrc',
  '.mkshrc',
  '.cshrc',
  '.tcshrc',
  '.login',
  '.logout',
  '.envrc',
  '.xprofile',
  '.xinitrc',
  '.xsession',
  '.xsessionrc',
  '.pam_environment',
  // git, editors, tools that run commands from their config
  '.git',
  '.gitconfig',
  '.gitmodules',
  '.vimrc',
  '.gvimrc',
  '.exrc',
  '.nvimrc',
  '.tmux.conf',
  '.npmrc',
  '.yarnrc',
  '.yarnrc.yml',
  '.pythonrc',
  '.pythonrc.py',
  'sitecustomize.py',
  'usercustomize.py',
  '.curlrc',
  '.wgetrc',
]);

/** Folders whose files are run or loaded later (anywhere on the path, any case). */
const RUNS_LATER_FOLDERS = new Set([
  '.git',
  '.husky',
  '.githooks',
  '.ssh',
  '.vscode',
  '.bashrc.d',
  'launchagents',
  'launchdaemons',
]);

/** Folders under ~/.config whose files are run or loaded later. */
const CONFIG_FOLDERS = new Set(['systemd', 'autostart', 'environment.d', 'fish', 'git', 'nvim', 'direnv']);

/** What kind of lasting file `real` (a resolved path) is, if any. Case-insensitive (macOS folders are). */
export function lastingKind(real: string): LastingKind | undefined {
  const parts = real.toLowerCase().split(path.sep).filter(Boolean);
  const name = parts[parts.length - 1] ?? '';
  if (INSTRUCTIONS.has(name)) return 'instructions';
  if (RUNS_LATER_NAMES.has(name) || name.endsWith('.pth')) return 'runs-later';
  // The folders themselves too: a folder moved into place as `.ssh` or `.config/systemd` brings
  // everything in it there at once.
  if (parts.some((f) => RUNS_LATER_FOLDERS.has(f))) return 'runs-later';
  const config = parts.indexOf('.config');
  if (config !== -1 && CONFIG_FOLDERS.has(parts[config + 1] ?? '')) return 'runs-later';
  return undefined;
}

/** Entries of a moved folder looked at, at most; past that the move counts as lasting. */
const MAX_WALK = 10_000;

/**
 * What a folder moved from `from` to `to` makes lasting: any entry in it (links are not followed)
 * whose new path is a lasting file, such as a folder named `.config` holding `systemd/user/x.service`.
 */
export function lastingInMovedFolder(from: string, to: string): LastingKind | undefined {
  let seen = 0;
  let found: LastingKind | undefined;
  const walk = (dir: string, rel: string): boolean => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return false;
    }
    for (const e of entries) {
      if (++seen > MAX_WALK) {
        found = 'runs-later';
        return true;
      }
      const kind = lastingKind(path.join(to, rel, e.name));
      if (kind === 'instructions') found ??= kind;
      if (kind === 'runs-later') {
        found = kind;
        return true;
      }
      if (e.isDirectory() && walk(path.join(dir, e.name), path.join(rel, e.name))) return true;
    }
    return false;
  };
  walk(from, '');
  return found;
}
