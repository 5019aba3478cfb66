// Flags for the Node process that runs the daemon. The young generation may grow to 4 MB a
// semi-space while the daemon is busy (V8 starts it at 1 MB and grows it when much survives): 32
// tiny tasks in parallel cost ~1 ms less CPU each than with 1 MB, which collects what a task keeps
// across a few milliseconds over and over. An idle daemon gives it back (util/memory-trim.ts), so
// idle RSS is what a 1 MB cap gave.
// A fixed old-generation growing factor of 1.2 (V8 picks up to 4 by itself when the daemon is
// busy) keeps memory flat as finished tasks pile up: 1,500 one-turn tasks left 197-207 MB
// resident without it and 125-131 MB with it, for ~5 % more CPU while busy.
// --expose-gc lets the daemon collect start-up's garbage once (reading a long history for the
// replay window), which V8 would otherwise keep resident while the daemon idles: ~15 MB less idle
// on a home with 4,000 finished tasks.
// One V8 worker thread (Node's default is four): a daemon on a two-core desktop gained nothing from
// more helpers for collection and compilation but their coordination. Tiny tasks: 3.9-4.5 ms of CPU
// each instead of 4.5-5.6, and 0.40-0.52x the bare SDK's rate instead of 0.27-0.32x (same runs,
// interleaved); agent turns, replay, thread.send and idle memory alike.
// Used by the login service files, `npm start` and the benchmarks.
export const DAEMON_NODE_FLAGS = [
  '--max-semi-space-size=4',
  '--heap-growing-percent=20',
  '--expose-gc',
  '--v8-pool-size=1',
];

// Environment for the daemon's process (glibc's allocator; other systems ignore it). A fixed mmap
// threshold: glibc otherwise raises it each time a large buffer is freed (reading the journal),
// after which freed memory stays in the heap for good; two arenas instead of one per thread.
// 4,000 one-turn tasks: 123 MB resident instead of 134 (1.15x the figure after 200, was 1.25x);
// idle after a restart on that home 89-90 MB instead of 97-98. Used where DAEMON_NODE_FLAGS are.
export const DAEMON_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
};
