// config.json as users write it by hand: a mistake names the key and the file, and nothing starts
// on a guess (a relative root would mean a different folder depending on where Errand started).
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { tempHome } from '../helpers/daemon.js';

let home: string | undefined;
afterEach(() => {
  if (home) fs.rmSync(home, { recursive: true, force: true });
  home = undefined;
});

function withConfig(config: unknown): string {
  home = tempHome('errand-config-');
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify(config), { mode: 0o600 });
  return home;
}

describe('config.json roots', () => {
  it('refuses a relative root, naming the key and the file', () => {
    const h = withConfig({ roots: ['/srv/shared', 'Documents'] });
    let err: unknown;
    try {
      loadConfig({ home: h, env: {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('"roots.1"');
    expect((err as Error).message).toContain(path.join(h, 'config.json'));
    expect((err as Error).message).toContain('absolute paths');
  });

  it('refuses ~ (the shell expands it, config.json does not)', () => {
    const h = withConfig({ roots: ['~/Documents'] });
    expect(() => loadConfig({ home: h, env: {} })).toThrow(/"roots\.0" must hold absolute paths/);
  });

  it('accepts absolute roots', () => {
    const h = withConfig({ roots: ['/srv/shared'] });
    expect(loadConfig({ home: h, env: {} }).roots).toEqual(['/srv/shared']);
  });
});
