// Files whose change outlives the thread: instruction files every later task reads (CLAUDE.md,
// AGENTS.md), and files other programs run or load on their own later, outside the sandbox and
// without the person deciding to run them (git hooks and config, shell start-up files, direnv,
// ssh, login services, editor and package-manager config, Python .pth files). A change to one in a
// thread that read untrusted content asks, shows the whole content, and is granted only exactly.
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
const RUNS_LATER_FOLDERS = new Set(['.git', '.husky', '.githooks', '.ssh', '.vscode', 'launchagents', 'launchdaemons']);

/** Folders under ~/.config whose files are run or loaded later. */
const CONFIG_FOLDERS = new Set(['systemd', 'autostart', 'environment.d', 'fish', 'git', 'nvim', 'direnv']);

/** What kind of lasting file `real` (a resolved path) is, if any. Case-insensitive (macOS folders are). */
export function lastingKind(real: string): LastingKind | undefined {
  const parts = real.toLowerCase().split(path.sep).filter(Boolean);
  const name = parts[parts.length - 1] ?? '';
  if (INSTRUCTIONS.has(name)) return 'instructions';
  if (RUNS_LATER_NAMES.has(name) || name.endsWith('.pth')) return 'runs-later';
  const folders = parts.slice(0, -1);
  if (folders.some((f) => RUNS_LATER_FOLDERS.has(f))) return 'runs-later';
  const config = folders.indexOf('.config');
  if (config !== -1 && CONFIG_FOLDERS.has(folders[config + 1] ?? '')) return 'runs-later';
  return undefined;
}
