import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './util/project-root.js';

/** The version in package.json. */
export const VERSION = (
  JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
