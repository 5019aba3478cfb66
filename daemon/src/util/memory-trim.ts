// Giving memory back when the daemon has nothing to do. Both need Node's --expose-gc, which the
// daemon's login service and `npm start` pass (DAEMON_NODE_FLAGS); without it they do nothing.
import v8 from 'node:v8';

type Gc = (options?: { type?: 'major' | 'minor' }) => void;
const exposedGc = () => (globalThis as { gc?: Gc }).gc;

/**
 * One full collection after start-up that also compacts: start-up's garbage leaves old-generation
 * pages part full, which V8 would keep resident (home with 4,000 finished tasks: old space 22-23 MB
 * for 13 MB of objects; idle RSS ~4 MB less).
 */
export function collectStartupGarbage(): void {
  const gc = exposedGc();
  if (!gc) return;
  let compacting = false;
  try {
    v8.setFlagsFromString('--compact-on-every-full-gc');
    compacting = true;
  } catch {
    // A Node whose flags are frozen: a plain collection.
  }
  try {
    gc();
  } finally {
    if (compacting) v8.setFlagsFromString('--no-compact-on-every-full-gc');
  }
}

export const YOUNG_TRIM_EVERY_MS = 10_000;

/**
 * A young-generation collection now and then. When little was allocated since the last one, V8
 * shrinks the young generation to its smallest and gives back the pages it no longer needs (after
 * start-up, or after a burst of tasks: 4 MB back to 1 MB, idle RSS 3-4 MB less); when the daemon is
 * busy it keeps the size it grew to. One costs well under a millisecond. Returns a stop function.
 */
export function trimYoungGenerationWhenIdle(everyMs = YOUNG_TRIM_EVERY_MS, gc = exposedGc()): () => void {
  if (!gc) return () => undefined;
  // V8 judges the allocation rate over the last 5 s: the first trims that can shrink come ~5 s after
  // start-up, hence a few close together first.
  let early = 0;
  const soon = setInterval(() => {
    gc({ type: 'minor' });
    if (++early === 6) clearInterval(soon);
  }, 1000).unref();
  const timer = setInterval(() => gc({ type: 'minor' }), everyMs).unref();
  return () => {
    clearInterval(soon);
    clearInterval(timer);
  };
}
