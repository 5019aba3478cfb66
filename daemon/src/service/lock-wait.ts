// Under a login service, a daemon started by hand may hold the home folder's lock. Exiting 75 then
// makes the service manager retry a few times and give up for good (systemd's start limit), so
// nothing takes over when the user stops the other daemon. Waiting for the holder instead keeps
// install's promise: stop the hand-started daemon and the service takes over.
import { lockHolder } from '../store/lock.js';

/** How often the lock is checked while another daemon holds it. */
export const LOCK_POLL_MS = 1000;

/** Is this an error that says another daemon holds the lock (store/lock.ts LockHeldError)? */
export function isLockHeld(err: unknown): err is Error & { pid: number } {
  return (err as { exitCode?: unknown })?.exitCode === 75 && typeof (err as { pid?: unknown }).pid === 'number';
}

/**
 * Run `start`; while another live process holds `lockFile`, wait for it to exit and try again.
 * `onWait` is told once per holder. Resolves undefined when `signal` aborts the wait (the service
 * was stopped meanwhile).
 */
export async function startWhenLockFree<T>(
  start: () => Promise<T>,
  lockFile: string,
  opts: { signal: AbortSignal; onWait: (pid: number) => void; pollMs?: number },
): Promise<T | undefined> {
  let told: number | undefined;
  for (;;) {
    if (opts.signal.aborted) return undefined;
    try {
      return await start();
    } catch (err) {
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
