// Giving memory back when the daemon has nothing to do. Both need Node's --expose-gc, which the
// daemon's login service and `npm start` pass (DAEMON_NODE_FLAGS); without it they do nothing.
import { performance } from 'node:perf_hooks';
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

/** Size of V8's young generation now (bytes). */
export function youngGenerationSize(): number {
  for (const space of v8.getHeapSpaceStatistics()) if (space.space_name === 'new_space') return space.space_size;
  return 0;
}

const BUSY_BESIDES_A_RUN = 0.1;

export interface YoungTrim {
  stop(): void;
  trimNow(): void;
}

export interface YoungTrimOptions {
  /** How often to look whether the daemon has gone quiet. */
  checkEveryMs?: number;
  /** Event-loop utilization below which a check counts as quiet. */
  quietBelow?: number;
  /** Spacing and number of the collections in one trim. */
  stepMs?: number;
  steps?: number;
  gc?: Gc;
  youngSize?: () => number;
  /** The young generation's smallest size, when known: no trims at it. Otherwise learnt from the first trim that shrank it. */
  smallestYoung?: number;
}

/**
 * Gives the young generation back once the daemon goes quiet. V8 grows it while the daemon is
 * busy (tiny tasks in parallel: ~1 ms less CPU per task with room for 4 MB than with 1 MB) but
 * shrinks it only in a young collection that finds the recent allocation rate low, judged over
 * its last ten collections; an idle daemon has none. So when a check finds the event loop quiet
 * and the young generation above its smallest, a short run of young collections 10 ms apart lets
 * V8 make that judgement (4 MB back to 1 MB, idle RSS ~6 MB less; each under a millisecond). A run
 * stops once the young generation shrank; V8 keeps the size if the daemon is still allocating,
 * and no new run starts until the daemon has been busy again. `trimNow` starts a run at once
 * (after start-up's collection, so that a fresh daemon settles at its idle size within a second).
 */
export function trimYoungGenerationWhenIdle(options: YoungTrimOptions = {}): YoungTrim {
  const {
    checkEveryMs = 500,
    quietBelow = 0.02,
    stepMs = 10,
    steps = 24,
    gc = exposedGc(),
    youngSize = youngGenerationSize,
  } = options;
  if (!gc) return { stop: () => undefined, trimNow: () => undefined };
  let smallest = options.smallestYoung ?? 0;
  let busySinceTrim = true; // start-up itself
  let trimming: NodeJS.Timeout | undefined;
  let trimmedSinceCheck = false; // a run's own collections are not the daemon being busy
  let lastUse = performance.eventLoopUtilization();

  const trim = () => {
    if (trimming) return;
    trimmedSinceCheck = true;
    const before = youngSize();
    let step = 0;
    trimming = setInterval(() => {
      gc({ type: 'minor' });
      const now = youngSize();
      if (now < before) smallest = smallest ? Math.min(smallest, now) : now;
      if (now < before || ++step >= steps) {
        clearInterval(trimming);
        trimming = undefined;
      }
    }, stepMs).unref();
  };

  const check = setInterval(() => {
    const use = performance.eventLoopUtilization();
    const utilization = performance.eventLoopUtilization(use, lastUse).utilization;
    lastUse = use;
    // A run's own collections take a percent or two of a second; work besides them takes more.
    const hadRun = trimmedSinceCheck;
    trimmedSinceCheck = Boolean(trimming);
    if (utilization >= (hadRun ? BUSY_BESIDES_A_RUN : quietBelow)) {
      busySinceTrim = true;
      return;
    }
    if (hadRun || !busySinceTrim) return;
    busySinceTrim = false;
    if (!smallest || youngSize() > smallest) trim();
  }, checkEveryMs).unref();

  return {
    stop: () => {
      clearInterval(check);
      clearInterval(trimming);
    },
    trimNow: () => {
      busySinceTrim = false;
      trim();
    },
  };
}
