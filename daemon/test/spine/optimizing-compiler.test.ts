// The daemon starts with V8's optimizing compiler off (DAEMON_NODE_FLAGS) and turns it on once
// start-up is done: hot code must be optimized after that, as before.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { DAEMON_NODE_FLAGS } from '../../src/util/node-flags.js';
import { optimizeFromNow } from '../../src/util/optimizing-compiler.js';
import { PROJECT_ROOT } from '../../src/util/project-root.js';

/** %GetOptimizationStatus's bit for "optimized". */
const OPTIMIZED = 1 << 4;

function hotFunctionStatus(flags: string[], turnOn: boolean): { before: number; after: number; turned: boolean } {
  const module = path.join(PROJECT_ROOT, 'dist', 'daemon', 'src', 'util', 'optimizing-compiler.js');
  // A new Function keeps the %-syntax out of the ES module's own parse.
  const script = `
    const { optimizeFromNow } = await import(${JSON.stringify(module)});
    const status = new Function('f', 'return %GetOptimizationStatus(f)');
    function sum(a) { let s = 0; for (let i = 0; i < a.length; i++) s = (s + a[i] * 2) | 0; return s; }
    const a = Array.from({ length: 1000 }, (_, i) => i);
    const run = () => { for (let k = 0; k < 20000; k++) sum(a); };
    run();
    const before = status(sum);
    const turned = ${turnOn} ? optimizeFromNow() : false;
    run();
    process.stdout.write(JSON.stringify({ before, after: status(sum), turned }));
  `;
  return JSON.parse(
    execFileSync(process.execPath, [...flags, '--allow-natives-syntax', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    }),
  );
}

it('starts the daemon with the optimizing compiler off', () => {
  expect(DAEMON_NODE_FLAGS).toContain('--no-opt');
});

it('turns the optimizing compiler on in a process started with it off', () => {
  const r = hotFunctionStatus(['--no-opt'], true);
  expect(r.turned).toBe(true);
  expect(r.before & OPTIMIZED).toBe(0);
  expect(r.after & OPTIMIZED).toBe(OPTIMIZED);
});

it('stays off until turned on', () => {
  const r = hotFunctionStatus(['--no-opt'], false);
  expect(r.after & OPTIMIZED).toBe(0);
});

it('changes nothing in a process started without the flag', () => {
  expect(optimizeFromNow(['--expose-gc'])).toBe(false);
  const r = hotFunctionStatus([], true);
  expect(r.turned).toBe(false);
  expect(r.after & OPTIMIZED).toBe(OPTIMIZED);
});
