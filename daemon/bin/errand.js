#!/usr/bin/env node
// Entry point for the `errand` command. `npm run build` compiles the TypeScript to dist/ and bundles
// it into dist/bundle/ (faster start); a bundle older than the compiled files is not used.
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const compiled = fileURLToPath(new URL('../../dist/daemon/src/cli/main.js', import.meta.url));
const bundled = fileURLToPath(new URL('../../dist/bundle/main.cjs', import.meta.url));
if (!existsSync(compiled) && !existsSync(bundled)) {
  process.stderr.write('errand is not built yet: run `npm run build` in the project folder first.\n');
  process.exit(1);
}
const useBundle =
  existsSync(bundled) && (!existsSync(compiled) || statSync(bundled).mtimeMs >= statSync(compiled).mtimeMs);
let runCli;
if (useBundle) {
  const { installCodeCache } = await import('./code-cache.js');
  const saveCodeCache = installCodeCache(dirname(bundled));
  ({ runCli } = createRequire(import.meta.url)(bundled));
  // Once the daemon is up it keeps the code V8 made while starting, for its next start: just that,
  // as what the cache holds is all made at every start (bytecode that idles in memory otherwise).
  process.once('errand:started', () => setImmediate(saveCodeCache));
} else ({ runCli } = await import(pathToFileURL(compiled).href));
process.exitCode = await runCli(process.argv.slice(2));
