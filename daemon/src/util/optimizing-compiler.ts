// V8's optimizing compiler (TurboFan) is off while the daemon starts: DAEMON_NODE_FLAGS carry
// --no-opt, and start-up turns it on once it is done. Start-up's loops run once (folding the
// journal, reading the history for the replay window), yet on a home with 4,000 finished tasks V8
// optimized them, and that code with the compiler's memory stayed resident: idle after start 64-66
// MB instead of 69-70 (the bound is 70). Start-up is no slower (restart of a heavy home:
// 370 ms against 390), and the code tasks run is optimized as before once they run hot.
import { createRequire } from 'node:module';

const OFF_FLAG = '--no-opt';

/** Turns the optimizing compiler on if the daemon was started with it off; nothing otherwise. */
export function optimizeFromNow(execArgv: readonly string[] = process.execArgv): boolean {
  if (!execArgv.includes(OFF_FLAG)) return false;
  // node:v8 on first use only (it costs milliseconds to load, which start-up does not pay).
  (createRequire(import.meta.url)('node:v8') as typeof import('node:v8')).setFlagsFromString('--opt');
  return true;
}
