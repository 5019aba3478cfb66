// Flags for the Node process that runs the daemon. A small young generation keeps an idle
// daemon's resident memory down (about 12 MB less) at the cost of more frequent, tiny scavenges.
// A fixed old-generation growing factor of 1.2 (V8 picks up to 4 by itself when the daemon is
// busy) keeps memory flat as finished tasks pile up: 1,500 one-turn tasks left 197-207 MB
// resident without it and 125-131 MB with it, for ~5 % more CPU while busy.
// --expose-gc lets the daemon collect start-up's garbage once (reading a long history for the
// replay window), which V8 would otherwise keep resident while the daemon idles: ~15 MB less idle
// on a home with 4,000 finished tasks.
// Used by the login service files, `npm start` and the benchmarks.
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=2', '--heap-growing-percent=20', '--expose-gc'];
