// `errand allow` and `errand disallow` on a config.json whose "roots" is not a list of paths: refused
// as start refuses it, naming the key and the fix, and the file is left byte for byte. Before, allow
// replaced {"roots":"notalist"} with a list and dropped entries that were not strings, saying nothing.
import fs from 'node:fs';
import { expect, it } from 'vitest';
import { homePaths } from '../../src/config/paths.js';
import { runErrand } from '../helpers/cli.js';
import { tempHome } from '../helpers/daemon.js';

const CASES = [
  { text: '{"roots": "notalist"}\n', key: '"roots" expected array, received string' },
  { text: '{"roots": ["/srv/kept", 5]}\n', key: '"roots.1" expected string, received number' },
];

it.each(CASES)('allow and disallow refuse $text, changing nothing', async ({ text, key }) => {
  const home = tempHome('errand-bad-roots-');
  const config = homePaths(home).config;
  fs.writeFileSync(config, text, { mode: 0o600 });
  const folder = fs.realpathSync(tempHome('errand-bad-roots-folder-'));
  const env = { ERRAND_HOME: home, ANTHROPIC_API_KEY: '' };

  for (const command of ['allow', 'disallow']) {
    const result = await runErrand([command, folder], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim()).toBe(
      `errand ${command}: Invalid configuration in ${config}: ${key}. Nothing was changed: make "roots" a list of folder paths, like ["/home/you/Documents"] (or remove it), then run \`errand ${command} <folder>\` again.`,
    );
    expect(fs.readFileSync(config, 'utf8')).toBe(text);
  }
});
