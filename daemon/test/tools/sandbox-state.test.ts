// The real sandbox (bubblewrap) denies Errand's whole state folder, new entries included, even when
// an allowed folder contains it: a sandboxed command can neither read state files nor create files
// there (pre-seeded connector pins, a redirected upload folder). Its workspace stays usable.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it.skipIf(process.platform !== 'linux')(
  'a sandboxed command in a root that contains the state folder cannot create, change or read anything in it',
  async () => {
    h = await toolsHarness({
      config: { shell: { sandbox: 'auto' }, policy: { rules: [{ tool: 'shell', match: 'bash', decision: 'allow' }] } },
    });
    const home = h.home;
    const base = path.dirname(home);
    fs.writeFileSync(path.join(home, 'secrets.json'), '{"token":"STATE_SECRET_VALUE"}', { mode: 0o600 });
    h.setConfig((raw) => {
      raw.roots = [base];
    });
    const ws = fs.realpathSync(h.ctx.paths.workspace);
    const script = [
      `echo '{}' > ${home}/pins-seeded.json && echo CREATED_FILE || echo FILE_REFUSED`,
      `mkdir ${home}/uploads-redirect && echo CREATED_DIR || echo DIR_REFUSED`,
      `echo x >> ${home}/secrets.json && echo APPENDED || echo APPEND_REFUSED`,
      `(cat ${home}/secrets.json) 2>/dev/null || echo SECRETS_HIDDEN`,
      `cd ${base} && echo z > home/relative-new.json; echo y > ${ws}/ok.txt && echo WS_WRITTEN`,
      `echo w > ${base}/beside.txt && echo BASE_WRITTEN`,
    ].join('; ');
    const out = await h.run('shell', { argv: ['bash', '-c', script], cwd: base });
    const t = textOf(out);
    expect(h.tools.sandbox.state, h.tools.sandbox.state.reason).toEqual({ enabled: true });
    expect(t).not.toContain('STATE_SECRET_VALUE');
    // Nothing reached the real state folder, whatever the command was told.
    const planted = ['pins-seeded.json', 'uploads-redirect', 'relative-new.json'];
    expect(fs.readdirSync(home).filter((n) => planted.includes(n))).toEqual([]);
    expect(fs.readFileSync(path.join(home, 'secrets.json'), 'utf8')).toBe('{"token":"STATE_SECRET_VALUE"}');
    // The workspace (inside the state folder) and the rest of the root stay writable.
    expect(t).toContain('WS_WRITTEN');
    expect(fs.readFileSync(path.join(ws, 'ok.txt'), 'utf8')).toBe('y\n');
    expect(fs.readFileSync(path.join(base, 'beside.txt'), 'utf8')).toBe('w\n');
  },
  120_000,
);
