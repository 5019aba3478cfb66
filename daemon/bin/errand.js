#!/usr/bin/env node
// Entry point for the `errand` command. The TypeScript sources are compiled to dist/ by `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const main = fileURLToPath(new URL('../../dist/daemon/src/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('errand is not built yet: run `npm run build` in the project folder first.\n');
  process.exit(1);
}
const { runCli } = await import(pathToFileURL(main).href);
process.exitCode = await runCli(process.argv.slice(2));
