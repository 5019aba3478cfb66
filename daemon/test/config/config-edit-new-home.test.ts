// Before the first `errand start` the home folder does not exist: `expose`, `allow` and
// `connectors add` edit config.json there and must create the folder (owner only), not fail ENOENT.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeExposeCommand } from '../../src/cli/commands/expose.js';
import { readConfigFile, updateConfigFile } from '../../src/config/load.js';
import { tempHome } from '../helpers/daemon.js';

describe('editing config.json before the home exists', () => {
  it('updateConfigFile creates the home 0700 and writes config.json 0600', () => {
    const home = path.join(tempHome('errand-newhome-'), 'state', 'errand');
    updateConfigFile(home, (raw) => {
      raw.roots = ['/srv/project'];
    });
    expect(fs.statSync(home).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(home, 'config.json')).mode & 0o777).toBe(0o600);
    expect(readConfigFile(path.join(home, 'config.json'))).toEqual({ roots: ['/srv/project'] });
  });

  it('`errand expose url` works on a home not created yet', async () => {
    const home = path.join(tempHome('errand-newhome-'), 'errand');
    const out: string[] = [];
    const errs: string[] = [];
    const code = await makeExposeCommand({ followUpMs: 0 }).run(
      { values: {}, positionals: ['url', 'https://errand.example.com'], home },
      { out: (t) => out.push(t), err: (t) => errs.push(t), env: {}, interactive: false, confirm: async () => false },
    );
    expect(errs).toEqual([]);
    expect(code).toBe(0);
    expect(out.join('\n')).toContain('Saved publicUrl = https://errand.example.com');
  });
});
