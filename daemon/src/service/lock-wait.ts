// Under a login service, a daemon started by hand may hold the home folder's lock. Exiting 75 then
// makes the service manager retry a few times and give up for good (systemd's start limit), so
// nothing takes over when the user stops the other daemon. Waiting for the holder instead keeps
// install's promise: stop the hand-started daemon and the service takes over.
// A full disk at start (a home folder not made yet) is waited out the same way: exiting 74 would
// end in the same give-up, and the service would not come back once the user frees space.
import { lockHolder } from '../store/lock.js';

/** How often the lock is checked while another daemon holds it. */
export const LOCK_POLL_MS = 1000;
/** How often a start is tried again while the disk is full (each try reads the home folder). */
export const DISK_FULL_RETRY_MS = 30_000;

/** Is this an error that says another daemon holds the lock (store/lock.ts LockHeldError)? */
export function isLockHeld(err: unknown): err is Error & { pid: number } {
  return (err as { exitCode?: unknown })?.exitCode === 75 && typeof (err as { pid?: unknown }).pid === 'number';
}

/** Is this a full disk at start (store/index.ts DiskFullAtStartError, or a raw ENOSPC before the store opened)? */
export function isDiskFullAtStart(err: unknown): boolean {
  const { exitCode, code } = (err ?? {}) as { exitCode?: unknown; code?: unknown };
  return exitCode === 74 || code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * Run `start`; while another live process holds `lockFile`, wait for it to exit and try again.
 * `onWait` is told once per holder. With `onDiskFull`, a full disk is retried every `diskRetryMs`
 * too (told once). Resolves undefined when `signal` aborts the wait (the service was stopped
 * meanwhile).
 */
export async function startWhenLockFree<T>(
  start: () => Promise<T>,
  lockFile: string,
  opts: {
    signal: AbortSignal;
    onWait: (pid: number) => void;
    pollMs?: number;
    onDiskFull?: (err: Error) => void;
    diskRetryMs?: number;
  },
): Promise<T | undefined> {
  let told: number | undefined;
  let toldFull = false;
  for (;;) {
    if (opts.signal.aborted) return undefined;
    try {
      return await start();
    } catch (err) {
      if (opts.onDiskFull && isDiskFullAtStart(err)) {
        if (!toldFull) opts.onDiskFull(err as Error);
        toldFull = true;
        if (!(await pause(opts.diskRetryMs ?? DISK_FULL_RETRY_MS, opts.signal))) return undefined;
        continue;
      }
      if (!isLockHeld(err)) throw err;
      if (told !== err.pid) opts.onWait(err.pid);
      told = err.pid;
    }
    while (lockHolder(lockFile) !== undefined) {
      const waited = await pause(opts.pollMs ?? LOCK_POLL_MS, opts.signal);
      if (!waited) return undefined;
    }
  }
}

/** Sleep, or false at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
