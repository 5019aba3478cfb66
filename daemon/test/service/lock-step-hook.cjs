// A `--require` preload that kills a start -9 at a chosen step of taking the home folder's lock.
// A step is one call that creates, links, moves or removes a file whose name starts "daemon.lock".
//  LOCK_STEP_PAUSE: the step to stop before: its number (1 is the first), or `lock-removal` for the
//    first step that moves or removes the name daemon.lock itself.
//  LOCK_STEP_RESUME: the step is taken once this file exists (the test runs another start meanwhile).
//  LOCK_STEP_KILL=1: SIGKILL right after that step, as a kill -9 or a power cut in that instant.
// Before pausing it writes "LOCK-STEP paused before <n>: <call> <names>" to stderr.
const fs = require('node:fs');
const path = require('node:path');

const pauseAt = process.env.LOCK_STEP_PAUSE;
const resumeFile = process.env.LOCK_STEP_RESUME ?? '';
const WRITE_FLAGS = /[wax+]/;

const isLockName = (p) => typeof p === 'string' && path.basename(p).startsWith('daemon.lock');
const removesLock = (call, args) =>
  ['renameSync', 'unlinkSync', 'rmSync'].includes(call) && path.basename(String(args[0])) === 'daemon.lock';

/** SIGKILL this process, and take no further step while the signal lands. */
function killNow() {
  process.kill(process.pid, 'SIGKILL');
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}

let steps = 0;
let inStep = false; // rmSync calls unlinkSync: one step
function wrap(call, isStep) {
  const original = fs[call];
  fs[call] = function (...args) {
    if (inStep || !isStep(args) || !args.slice(0, 2).some(isLockName)) return original.apply(this, args);
    inStep = true;
    try {
      return takeStep(call, args, () => original.apply(this, args));
    } finally {
      inStep = false;
    }
  };
}

function takeStep(call, args, step) {
  steps++;
  const chosen = pauseAt === 'lock-removal' ? removesLock(call, args) : Number(pauseAt) === steps;
  if (!chosen) return step();
  const names = args.filter((a) => typeof a === 'string' && a.includes('daemon.lock')).map((a) => path.basename(a));
  process.stderr.write(`LOCK-STEP paused before ${steps}: ${call} ${names.join(' ')}\n`);
  while (!fs.existsSync(resumeFile)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
  try {
    return step();
  } finally {
    if (process.env.LOCK_STEP_KILL === '1') killNow();
  }
}

if (pauseAt) {
  const always = () => true;
  for (const call of ['linkSync', 'symlinkSync', 'renameSync', 'unlinkSync', 'rmSync', 'writeFileSync']) {
    wrap(call, always);
  }
  wrap('openSync', (args) => WRITE_FLAGS.test(String(args[1] ?? 'r')));
}
