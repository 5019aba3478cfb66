// Flags for the Node process that runs the daemon. While the daemon is busy V8 may let both
// generations grow: the young one to 32 MB semi-spaces (V8 starts it at 1 MB and grows it when much
// survives), the old one to 1.5x what survived its last full collection. Most of what a full
// collection marks is the daemon's own code and shapes (~20 MB), so with the 1.2x the daemon used
// before, a burst of tiny tasks spent a quarter of its CPU marking them again and again: warm, 32
// in parallel, 1.6-1.9 ms of CPU per task instead of 2.1-2.3. 2x saves a little more but lets dead
// buffers pile up in the C heap between collections, whose high-water mark stays resident (RSS
// after 4,000 tasks 1.20-1.25x the figure after 200, against 1.13-1.15x). 8 MB semi-spaces rather
// than 4: fewer young collections, each copying the same tasks in flight. Tiny tasks 1.46 ms of CPU
// each instead of 1.62 and 0.57x the bare SDK's rate instead of 0.50x (medians of seven interleaved
// runs). 32 MB rather than 8, since start-up no longer optimizes (--no-opt below) and so leaves
// room under the idle bound: 1.41-1.82 ms of CPU per task against 1.73-2.41 and 0.51-0.57x against
// 0.48-0.55x (four interleaved pairs, both with --no-opt), idle RSS on a 4,000-task home 66.3 MB
// against 65.4. An idle daemon gives both generations back (util/memory-trim.ts), so idle RSS is
// what small caps gave.
// --expose-gc lets it do so: a compacting collection after start-up (reading a long history for
// the replay window) and whenever the daemon goes quiet after work that grew the old generation.
// One V8 worker thread (Node's default is four): a daemon on a two-core desktop gained nothing from
// more helpers for collection and compilation but their coordination. Tiny tasks: 3.9-4.5 ms of CPU
// each instead of 4.5-5.6, and 0.40-0.52x the bare SDK's rate instead of 0.27-0.32x (same runs,
// interleaved); agent turns, replay, thread.send and idle memory alike.
// --no-opt: the optimizing compiler is off until start-up is done (util/optimizing-compiler.ts).
// Used by the login service files, `npm start` and the benchmarks.
export const DAEMON_NODE_FLAGS = [
  '--max-semi-space-size=32',
  '--heap-growing-percent=50',
  '--expose-gc',
  '--v8-pool-size=1',
  '--no-opt',
];

// Environment for the daemon's process (glibc's allocator; other systems ignore it). A fixed mmap
// threshold: glibc otherwise raises it each time a large buffer is freed (reading the journal),
// after which freed memory stays in the heap for good; two arenas instead of one per thread.
// 4,000 one-turn tasks: 123 MB resident instead of 134 (1.15x the figure after 200, was 1.25x);
// idle after a restart on that home 89-90 MB instead of 97-98. At 32 KB rather than 128 KB, the
// 64 KB buffer Node reads each socket into (shrunk to what came) is pages of its own, given back
// when freed, instead of a hole among the C heap's live chunks: with the old generation at 1.5x,
// 4,000 tasks left 86-87 MB resident instead of 96-97 (1.12-1.13x the figure after 200, was
// 1.22-1.24x), for no CPU measured. Used where DAEMON_NODE_FLAGS are.
export const DAEMON_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '32768',
};
