// Where Errand keeps its state: one home folder, by platform convention unless ERRAND_HOME says otherwise.
import os from 'node:os';
import path from 'node:path';

export function defaultHome(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (env.ERRAND_HOME) return path.resolve(expandTilde(env.ERRAND_HOME, platform));
  const home = os.homedir();
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Errand');
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Errand');
  const xdg = env.XDG_STATE_HOME || path.join(home, '.local', 'state');
  return path.join(xdg, 'errand');
}

/**
 * A leading `~` as the shell expands it: quoted ('~/eh', or set in a unit file) it reaches Errand as
 * is, and would name a folder called `~` in the current folder. Other relative paths stay relative
 * to the current folder, as the shell leaves them; `errand start` says the absolute home it uses.
 */
function expandTilde(value: string, platform: NodeJS.Platform): string {
  if (value === '~') return os.homedir();
  const homeRelative = value.startsWith('~/') || (platform === 'win32' && value.startsWith('~\\'));
  return homeRelative ? path.join(os.homedir(), value.slice(2)) : value;
}

/** Every file the daemon keeps, named once. */
export function homePaths(home: string) {
  return {
    home,
    config: path.join(home, 'config.json'),
    lock: path.join(home, 'daemon.lock'),
    socket: path.join(home, 'control.sock'),
    store: path.join(home, 'store'),
    backups: path.join(home, 'backups'),
    events: path.join(home, 'events'),
    audit: path.join(home, 'audit.log'),
    journal: path.join(home, 'journal'),
    trash: path.join(home, 'trash'),
    uploads: path.join(home, 'uploads'),
    logs: path.join(home, 'logs'),
    vapid: path.join(home, 'vapid.json'),
    secrets: path.join(home, 'secrets.json'),
    workspace: path.join(home, 'workspace'),
    /** The memory tool's folder: outside the workspace, so no file tool or shell command reaches it. */
    memory: path.join(home, 'memory'),
    /** The personal instructions the user keeps (phone: Settings → Memory), in every task's prompt. */
    instructions: path.join(home, 'instructions.md'),
  };
}
export type HomePaths = ReturnType<typeof homePaths>;
