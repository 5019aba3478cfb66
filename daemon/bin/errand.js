#!/usr/bin/env node
// Entry point for the `errand` command. `npm run build` compiles the TypeScript to dist/ and bundles
// it into dist/bundle/ (faster start); a bundle older than the compiled files is not used.
// CommonJS (daemon/bin/package.json), like the bundle: an ES module entry sets up Node's ES module
// loader before the first line runs, ~15 ms of every start; the bundle never needs it.
'use strict';
const { existsSync, statSync } = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const compiled = path.join(__dirname, '../../dist/daemon/src/cli/main.js');
const bundled = path.join(__dirname, '../../dist/bundle/main.cjs');
if (!existsSync(compiled) && !existsSync(bundled)) {
  process.stderr.write('errand is not built yet: run `npm run build` in the project folder first.\n');
  process.exit(1);
}
const useBundle =
  existsSync(bundled) && (!existsSync(compiled) || statSync(bundled).mtimeMs >= statSync(compiled).mtimeMs);

async function main() {
  let runCli;
  if (useBundle) {
    const { installCodeCache } = require('./code-cache.js');
    const saveCodeCache = installCodeCache(path.dirname(bundled));
    ({ runCli } = require(bundled));
    // Once the daemon is up it keeps the code V8 made while starting, for its next start: just that,
    // as what the cache holds is all made at every start (bytecode that idles in memory otherwise).
    process.once('errand:started', () => setImmediate(saveCodeCache));
  } else ({ runCli } = await import(pathToFileURL(compiled).href));
  process.exitCode = await runCli(process.argv.slice(2));
}
main();
