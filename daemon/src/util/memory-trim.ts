// Giving memory back when the daemon has nothing to do. It needs Node's --expose-gc, which the
// daemon's login service and `npm start` pass (DAEMON_NODE_FLAGS); without it nothing is done.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

// node:v8 is loaded on first use: loading it took 3-4 ms of every start, and nothing here runs
// before the daemon has started and gone quiet.
let v8Module: typeof import('node:v8') | undefined;
const v8 = (): typeof import('node:v8') => (v8Module ??= createRequire(import.meta.url)('node:v8'));

type Gc = (options?: { type?: 'major' | 'minor' }) => void;
const exposedGc = () => (globalThis as { gc?: Gc }).gc;

/**
 * A full collection that also compacts: garbage leaves old-generation pages part full, which V8
 * would keep resident (after start-up on a home with 4,000 finished tasks: old space 22-23 MB for
 * 13 MB of objects; idle RSS ~4 MB less). Does nothing without an exposed gc.
 */
export function compactingCollection(gc = exposedGc()): void {
  if (!gc) return;
  let compacting = false;
  try {
    v8().setFlagsFromString('--compact-on-every-full-gc');
    compacting = true;
  } catch {
    // A Node whose flags are frozen: a plain collection.
  }
  try {
    gc();
  } finally {
    if (compacting) v8().setFlagsFromString('--no-compact-on-every-full-gc');
  }
}

/** Size of V8's young generation now (bytes). */
export function youngGenerationSize(): number {
  for (const space of v8().getHeapSpaceStatistics()) if (space.space_name === 'new_space') return space.space_size;
  return 0;
}

/** Size of V8's old generation now (every space but the young ones; bytes). */
export function oldGenerationSize(): number {
  let size = 0;
  for (const space of v8().getHeapSpaceStatistics()) if (!space.space_name.startsWith('new_')) size += space.space_size;
  return size;
}

const BUSY_BESIDES_A_RUN = 0.1;
/** Old-generation growth since the last compacting collection that is worth one when quiet. */
const OLD_GROWTH_TO_COMPACT = 1.25;

export interface IdleTrim {
  stop(): void;
  /** Start-up is done: a compacting collection and a young run now. */
  afterStartup(): void;
}

export interface IdleTrimOptions {
  /** How often to look whether the daemon has gone quiet, once it was seen busy. */
  checkEveryMs?: number;
  /** How often to look while there is nothing to give back. */
  idleCheckEveryMs?: number;
  /** Event-loop utilization below which a check counts as quiet. */
  quietBelow?: number;
  /** Spacing and number of the young collections in one run. */
  stepMs?: number;
  steps?: number;
  gc?: Gc;
  youngSize?: () => number;
  oldSize?: () => number;
  compact?: () => void;
  /** The young generation's smallest size, when known: no runs at it. Otherwise learnt from the first run that shrank it. */
  smallestYoung?: number;
}

/**
 * Gives memory back once the daemon goes quiet after work. V8 lets both generations grow while the
 * daemon is busy (DAEMON_NODE_FLAGS: old generation up to 1.5x what survived its last full
 * collection, young generation up to 8 MB semi-spaces), which saves a fifth of the CPU a burst of
 * tasks takes, and would keep that room resident for a long while after.
 *
 * - Old generation: if it grew by a quarter since the last compacting collection, one more
 *   (~20-40 ms, while nothing else happens).
 * - Young generation: V8 shrinks it only in a young collection that finds the recent allocation
 *   rate low, judged over its last ten; an idle daemon makes none. So a short run of young
 *   collections 10 ms apart lets V8 make that judgement (back to 1 MB; each well under a
 *   millisecond). A run stops once it shrank; V8 keeps the size if the daemon is still allocating.
 *
 * "Quiet after work" is a check that finds the event loop under 2 % busy after one that found it
 * busier; nothing more happens until the daemon has been busy again. Checks come every half second
 * once work was seen, and every two seconds while there is nothing to give back, so that an idle
 * daemon wakes up rarely.
 */
export function trimMemoryWhenIdle(options: IdleTrimOptions = {}): IdleTrim {
  const {
    checkEveryMs = 500,
    idleCheckEveryMs = 2000,
    quietBelow = 0.02,
    stepMs = 10,
    steps = 24,
    gc = exposedGc(),
    youngSize = youngGenerationSize,
    oldSize = oldGenerationSize,
    compact = () => compactingCollection(gc),
  } = options;
  if (!gc) return { stop: () => undefined, afterStartup: () => undefined };
  let smallest = options.smallestYoung ?? 0;
  let oldAfterCompact = oldSize();
  let busySinceTrim = true; // start-up itself
  let trimming: NodeJS.Timeout | undefined;
  let trimmedSinceCheck = false; // a run's own collections are not the daemon being busy
  let lastUse = performance.eventLoopUtilization();

  const compactNow = () => {
    compact();
    oldAfterCompact = oldSize();
    trimmedSinceCheck = true;
  };

  const trimYoung = () => {
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

  const trimYoungAboveSmallest = () => {
    if (!smallest || youngSize() > smallest) trimYoung();
  };

  const check = () => {
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
    if (oldSize() > oldAfterCompact * OLD_GROWTH_TO_COMPACT) compactNow();
    trimYoungAboveSmallest();
  };
  let timer: NodeJS.Timeout;
  const schedule = () => {
    const soon = busySinceTrim || trimming !== undefined || trimmedSinceCheck;
    timer = setTimeout(
      () => {
        check();
        schedule();
      },
      soon ? checkEveryMs : idleCheckEveryMs,
    ).unref();
  };
  schedule();

  let stopped = false;
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      clearInterval(trimming);
    },
    afterStartup: () => {
      if (stopped) return; // a daemon stopped before start-up's collection was due
      busySinceTrim = false;
      compactNow();
      trimYoungAboveSmallest();
    },
  };
}
