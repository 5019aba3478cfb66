// Test preload (node --require): kill -9 this process right after its Nth fs.promises.rename onto a
// path that matches ERRAND_TEST_KILL_AFTER_RENAME (a regular expression), as a crash would stop it
// there: a store file durable, what follows it (the journal record, the HTTP reply) not yet written.
// ERRAND_TEST_KILL_AFTER_RENAME_N is N (1 when unset).
const fsp = require('node:fs/promises');

const pattern = process.env.ERRAND_TEST_KILL_AFTER_RENAME;
if (pattern) {
  const matches = new RegExp(pattern);
  const nth = Number(process.env.ERRAND_TEST_KILL_AFTER_RENAME_N ?? '1');
  let seen = 0;
  const rename = fsp.rename;
  fsp.rename = async function killAfterRename(from, to, ...rest) {
    const result = await rename.call(this, from, to, ...rest);
    if (matches.test(String(to)) && ++seen === nth) process.kill(process.pid, 'SIGKILL');
    return result;
  };
}
