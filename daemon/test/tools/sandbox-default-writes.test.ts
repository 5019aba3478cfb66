// The sandbox runtime makes a few folders writable on its own (/tmp/claude, ~/.npm/_logs,
// ~/.claude/debug: getDefaultWritePaths). They are shared by every task and outlive it, and no undo
// or taint note sees them, so a sandboxed command writes only where Errand allows: inside the
// allowed folders. One of those folders inside an allowed root stays writable like the rest of it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

const linux = process.platform === 'linux';
let h: ToolsHarness | undefined;
const realHome = process.env.HOME;
let fakeHome = '';
/** /tmp/claude is a fixed path: made for the test only when it was not there, and removed after. */
const TMP_CLAUDE = '/tmp/claude';
let madeTmpClaude = false;
const marker = `errand-sandbox-defaults-${process.pid}`;

beforeAll(() => {
  if (!linux) return;
  // The runtime reads the home folder from HOME (os.homedir) when it wraps a command.
  fakeHome = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-sandbox-defaults-home-')));
  fs.mkdirSync(path.join(fakeHome, '.npm/_logs'), { recursive: true });
  fs.mkdirSync(path.join(fakeHome, '.claude/debug'), { recursive: true });
  process.env.HOME = fakeHome;
  if (!fs.existsSync(TMP_CLAUDE)) {
    fs.mkdirSync(TMP_CLAUDE);
    madeTmpClaude = true;
  }
});

afterAll(async () => {
  await h?.close();
  process.env.HOME = realHome;
  if (fakeHome) fs.rmSync(fakeHome, { recursive: true, force: true });
  fs.rmSync(path.join(TMP_CLAUDE, marker), { force: true });
  if (madeTmpClaude) fs.rmSync(TMP_CLAUDE, { recursive: true, force: true });
});

/** A script that tries to write a marker in each folder and says which writes worked. */
const tryWrites = (dirs: Record<string, string>) =>
  Object.entries(dirs)
    .map(([name, dir]) => `echo x > ${dir}/${marker} 2>/dev/null && echo WROTE_${name} || echo REFUSED_${name}`)
    .join('; ');
/** The output's lines (the command line shown above them names every outcome too). */
const linesOf = (result: Parameters<typeof textOf>[0]) => textOf(result).split('\n');

it.skipIf(!linux)(
  'a sandboxed command cannot write in the runtime default folders outside the allowed folders',
  async () => {
    h = await toolsHarness({
      config: { shell: { sandbox: 'auto' }, policy: { rules: [{ tool: 'shell', match: 'bash', decision: 'allow' }] } },
    });
    const ws = fs.realpathSync(h.ctx.paths.workspace);
    const defaults = {
      TMP_CLAUDE: TMP_CLAUDE,
      NPM_LOGS: path.join(fakeHome, '.npm/_logs'),
      CLAUDE_DEBUG: path.join(fakeHome, '.claude/debug'),
    };
    const out = linesOf(await h.run('shell', { argv: ['bash', '-c', tryWrites({ ...defaults, WORKSPACE: ws })] }));
    expect(h.tools.sandbox.state, h.tools.sandbox.state.reason).toEqual({ enabled: true });
    expect(out).toContain('WROTE_WORKSPACE');
    for (const name of Object.keys(defaults)) expect(out).toContain(`REFUSED_${name}`);
    for (const dir of Object.values(defaults)) expect(fs.existsSync(path.join(dir, marker))).toBe(false);

    // With the home folder an allowed root, its npm logs folder is just part of that root.
    h.setConfig((raw) => {
      raw.roots = [fakeHome];
    });
    const inRoot = linesOf(
      await h.run('shell', { argv: ['bash', '-c', tryWrites({ NPM_LOGS: defaults.NPM_LOGS })], cwd: fakeHome }),
    );
    expect(inRoot).toContain('WROTE_NPM_LOGS');
    expect(fs.existsSync(path.join(defaults.NPM_LOGS, marker))).toBe(true);
  },
  120_000,
);
