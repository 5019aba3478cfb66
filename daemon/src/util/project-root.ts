// The project folder (where package.json is), whether running compiled from dist/ or from source.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function find(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'errand')
      return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the Errand project folder');
    dir = parent;
  }
}

export const PROJECT_ROOT = find();
