// What `errand start` says when the home folder itself is in the way: read-only, not ours, or a
// file where a folder belongs. A restart cannot fix any of these, so they exit as configuration
// errors (78): the service manager does not restart-loop on them.
import { forTerminal } from './terminal-text.js';

export const EXIT_HOME_UNUSABLE = 78;

/** The sentence for a file-system error met while opening the home, or undefined for other errors. */
export function homeAccessMessage(err: unknown, home: string): string | undefined {
  const e = err as NodeJS.ErrnoException;
  // Only errors on a file or folder (a port below 1024 also gives EACCES, from listen, with no path).
  if (typeof e?.path !== 'string') return undefined;
  const where = forTerminal(e.path.startsWith(home) ? e.path : home);
  switch (e.code) {
    case 'EROFS':
      return `${where} is on a read-only file system, so Errand cannot save anything there. Make it writable, or set ERRAND_HOME to a writable folder, then start again.`;
    case 'EACCES':
    case 'EPERM':
      return `Errand may not write to ${where} (permission denied). Give your user access to it (\`ls -ld\` shows its owner), or set ERRAND_HOME to a folder you own, then start again.`;
    case 'EEXIST':
    case 'ENOTDIR':
      return `${where} (or a folder above it) is a file where Errand keeps a folder. Move that file away, then start again; \`errand doctor\` checks the whole home.`;
    default:
      return undefined;
  }
}
