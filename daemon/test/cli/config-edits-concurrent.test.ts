// Several `errand allow` and `errand disallow` at once, as real processes: each reads config.json,
// changes it and writes it back. Before the config lock, a change written at the same moment as
// another was lost: of 7 folders said "Allowed" 3 to 5 were kept, and a folder said "Removed" came
// back. Now every change each one reported is in the file.
import fs from 'node:fs';
import { expect, it } from 'vitest';
import { homePaths } from '../../src/config/paths.js';
import { runErrand } from '../helpers/cli.js';
import { tempHome } from '../helpers/daemon.js';

const ROUNDS = 2;
const ALLOWS = 7;

it('concurrent allow and disallow processes each keep their change', { timeout: 120_000 }, async () => {
  const home = tempHome('errand-config-race-');
  const folders = Array.from({ length: ALLOWS + 1 }, () => fs.realpathSync(tempHome('errand-config-race-root-')));
  const [removed, ...added] = folders;
  const env = { ERRAND_HOME: home, ANTHROPIC_API_KEY: '' };
  const config = homePaths(home).config;
  const roots = () => JSON.parse(fs.readFileSync(config, 'utf8')).roots as string[];

  for (let round = 0; round < ROUNDS; round++) {
    expect((await runErrand(['allow', removed], env)).code).toBe(0);
    const results = await Promise.all([
      runErrand(['disallow', removed], env),
      ...added.map((folder) => runErrand(['allow', folder], env)),
    ]);
    expect(results.map((r) => [r.code, r.stderr])).toEqual(results.map(() => [0, '']));
    expect(results[0].stdout).toContain(`Removed ${removed}`);
    expect(roots().sort(), `round ${round + 1}`).toEqual([...added].sort());
    // No lock left behind.
    expect(fs.readdirSync(home).filter((n) => n.startsWith('config.json.lock'))).toEqual([]);
    // Back to none, for the next round.
    for (const folder of added) expect((await runErrand(['disallow', folder], env)).code).toBe(0);
    expect(roots()).toEqual([]);
  }
});
