// The bundle's compiled-code cache (daemon/bin/code-cache.js), in real Node processes: the first
// run writes it, the next one uses it (and can still import() a library, which code from a cache
// cannot do by itself in Node 20), a changed chunk of the same length never meets the old cache,
// a chunk outside ASCII reads as UTF-8, and a cache folder that cannot be written costs nothing but the cache.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/util/project-root.js';

const loader = path.join(PROJECT_ROOT, 'daemon', 'bin', 'code-cache.js');
let dir: string;
let bundle: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-code-cache-'));
  bundle = path.join(dir, 'bundle');
  fs.mkdirSync(bundle);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A chunk as the bundle makes them: CommonJS, strict, import() of a library through __import. */
function writeChunk(word: string): void {
  fs.writeFileSync(
    path.join(bundle, 'chunk.cjs'),
    `"use strict";
const { helper } = require("./helper.cjs");
exports.run = async () => {
  const os = await (typeof __import === "function" ? __import : (s) => import(s))("node:os");
  return helper("${word}") + " " + typeof os.cpus;
};
`,
  );
  fs.writeFileSync(path.join(bundle, 'helper.cjs'), '"use strict";\nexports.helper = (w) => "said " + w;\n');
}

/** One process: loads the chunk through the cache, runs it, saves; prints what it saw. */
function runOnce(): { result: string; written: number } {
  const script = `
    import { createRequire } from 'node:module';
    const { installCodeCache } = await import(${JSON.stringify(loader)});
    const save = installCodeCache(${JSON.stringify(bundle)});
    const { run } = createRequire(import.meta.url)(${JSON.stringify(path.join(bundle, 'chunk.cjs'))});
    const result = await run();
    process.stdout.write(JSON.stringify({ result, written: save() }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out);
}

it('writes the cache once, then runs from it, import() included', () => {
  writeChunk('hello');
  expect(runOnce()).toEqual({ result: 'said hello function', written: 2 });
  const files = fs.readdirSync(path.join(bundle, '.code-cache'));
  expect(files.filter((f) => f.endsWith('.bin'))).toHaveLength(2);
  // The second run finds both caches V8 accepts: nothing new to write, and import() still works.
  expect(runOnce()).toEqual({ result: 'said hello function', written: 0 });
  expect(files.some((f) => f.endsWith('.tmp'))).toBe(false);
});

it('never runs an old cache for a changed chunk of the same length', () => {
  writeChunk('hello');
  runOnce();
  writeChunk('HELLO'); // same length: V8's own check would take the old code
  expect(runOnce()).toEqual({ result: 'said HELLO function', written: 1 });
});

it('reads a chunk outside ASCII as UTF-8, from the cache too', () => {
  writeChunk('h\u00e9llo \u2192 w\u00f6rld');
  expect(runOnce().result).toBe('said h\u00e9llo \u2192 w\u00f6rld function');
  expect(runOnce()).toEqual({ result: 'said h\u00e9llo \u2192 w\u00f6rld function', written: 0 });
});

it('still runs when the cache cannot be written', () => {
  writeChunk('hello');
  fs.writeFileSync(path.join(bundle, '.code-cache'), 'not a folder');
  expect(runOnce()).toEqual({ result: 'said hello function', written: 0 });
  expect(runOnce()).toEqual({ result: 'said hello function', written: 0 });
});
