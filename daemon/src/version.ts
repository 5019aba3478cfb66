import fs from 'node:fs';

const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
/** The version in package.json (compiled code runs from dist/daemon/src, three levels below it). */
export const VERSION = pkg.version;
