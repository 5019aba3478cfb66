// A home Errand cannot use (a file where its store folder belongs) stops the start with a sentence
// naming the place and the fix, as a configuration error the service manager does not restart.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { freePort, runErrand } from '../helpers/cli.js';
import { tempHome } from '../helpers/daemon.js';

it('a file where the journal folder belongs: named, with the fix, exit 78', async () => {
  const home = tempHome();
  try {
    fs.mkdirSync(path.join(home, 'store'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(home, 'store', 'wal'), 'not a folder');
    const r = await runErrand(['start'], { ERRAND_HOME: home, ERRAND_PORT: String(await freePort()) });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(path.join(home, 'store', 'wal'));
    expect(r.stderr).toMatch(/is a file where Errand keeps a folder\. Move that file away/);
    expect(fs.readFileSync(path.join(home, 'store', 'wal'), 'utf8')).toBe('not a folder');
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
