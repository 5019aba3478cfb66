#!/usr/bin/env node
// Entry point for the `errand` command. `npm run build` compiles the TypeScript to dist/ and bundles
// it into dist/bundle/ (faster start); a bundle older than the compiled files is not used.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const compiled = fileURLToPath(new URL('../../dist/daemon/src/cli/main.js', import.meta.url));
const bundled = fileURLToPath(new URL('../../dist/bundle/main.js', import.meta.url));
if (!existsSync(compiled) && !existsSync(bundled)) {
  process.stderr.write('errand is not built yet: run `npm run build` in the project folder first.\n');
  process.exit(1);
}
const useBundle =
  existsSync(bundled) && (!existsSync(compiled) || statSync(bundled).mtimeMs >= statSync(compiled).mtimeMs);
const { runCli } = await import(pathToFileURL(useBundle ? bundled : compiled).href);
process.exitCode = await runCli(process.argv.slice(2));
