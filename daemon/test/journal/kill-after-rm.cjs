// Test preload (node --require): kill -9 this process right after its Nth fs.promises.rm of a path
// that matches ERRAND_TEST_KILL_AFTER_RM (a regular expression), as a crash would stop it there:
// between one file of a memory.clear and the next. ERRAND_TEST_KILL_AFTER_RM_N is N (1 when unset).
const fsp = require('node:fs/promises');

const pattern = process.env.ERRAND_TEST_KILL_AFTER_RM;
if (pattern) {
  const matches = new RegExp(pattern);
  const nth = Number(process.env.ERRAND_TEST_KILL_AFTER_RM_N ?? '1');
  let seen = 0;
  const rm = fsp.rm;
  fsp.rm = async function killAfterRm(target, ...rest) {
    const result = await rm.call(this, target, ...rest);
    if (matches.test(String(target)) && ++seen === nth) process.kill(process.pid, 'SIGKILL');
    return result;
  };
}
