// Test preload (node --require): kill -9 this process right after an fs.renameSync onto a path that
// matches ERRAND_TEST_KILL_AFTER_SYNC_RENAME (a regular expression), as a crash would stop it there:
// that file in place, what follows it (config.json, the journal record) not yet written.
const fs = require('node:fs');

const pattern = process.env.ERRAND_TEST_KILL_AFTER_SYNC_RENAME;
if (pattern) {
  const matches = new RegExp(pattern);
  const renameSync = fs.renameSync;
  fs.renameSync = function killAfterRename(from, to, ...rest) {
    const result = renameSync.call(this, from, to, ...rest);
    if (matches.test(String(to))) process.kill(process.pid, 'SIGKILL');
    return result;
  };
}
