// Flags for the Node process that runs the daemon. A small young generation keeps an idle
// daemon's resident memory down (about 12 MB less than V8's default; a 1 MB semi-space instead of
// 2 MB: idle on a home with 4,000 finished tasks 66.9-68.6 MB instead of 69.3-70.6) at the cost of
// more frequent, tiny scavenges (agent overhead per turn 3.1-4.0 ms instead of 2.1-2.9; tiny tasks
// per second alike). That became cheap once a turn stopped making large strings and buffers.
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
  '--max-semi-space-size=1',
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
