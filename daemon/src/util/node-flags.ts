// Flags for the Node process that runs the daemon. A small young generation keeps an idle
// daemon's resident memory down (about 12 MB less) at the cost of more frequent, tiny scavenges.
// Used by the login service files, `npm start` and the cold-start benchmark.
export const DAEMON_NODE_FLAGS = ['--max-semi-space-size=2'];
