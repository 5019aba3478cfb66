// When the home folder itself is in the way: read-only, not ours, or a file where a folder belongs.
// A restart cannot fix any of these, so `errand start` exits on them as configuration errors (78):
// the service manager does not restart-loop on them. `errand doctor` says the same, in the same words.

export const EXIT_HOME_UNUSABLE = 78;

export interface HomeProblem {
  /** What is wrong, naming the place (no full stop). */
  problem: string;
  /** What to do, as a sentence. */
  fix: string;
}

/** What is wrong and the fix, for a file-system error met while opening the home; undefined for other errors. */
export function homeAccessProblem(err: unknown, home: string): HomeProblem | undefined {
  const e = err as NodeJS.ErrnoException;
  // Only errors on a file or folder (a port below 1024 also gives EACCES, from listen, with no path).
  if (typeof e?.path !== 'string') return undefined;
  const where = e.path.startsWith(home) ? e.path : home;
  switch (e.code) {
    case 'EROFS':
      return {
        problem: `${where} is on a read-only file system, so Errand cannot save anything there`,
        fix: 'Make it writable, or set ERRAND_HOME to a writable folder, then start again.',
      };
    case 'EACCES':
    case 'EPERM':
      return {
        problem: `Errand may not write to ${where} (permission denied)`,
        fix: 'Give your user access to it (`ls -ld` shows its owner), or set ERRAND_HOME to a folder you own, then start again.',
      };
    case 'EEXIST':
    case 'ENOTDIR':
      return {
        problem: `${where} (or a folder above it) is a file where Errand keeps a folder`,
        fix: 'Move that file away, then start again; `errand doctor` checks the whole home.',
      };
    default:
      return undefined;
  }
}
