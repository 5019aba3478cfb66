// Paths and names the CLI prints can come from files (an extracted archive, a download), folders,
// config.json or connectors: escapes in them (a window title, erase line, OSC 52 that writes the
// clipboard) are shown as visible text, never sent raw to the terminal. Before, `errand trash`,
// `errand trash restore` (its result and its refusal), `errand roots` and `errand status` printed them raw.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/command.js';
import { runCli } from '../../src/cli/main.js';
import { startTestDaemon, type TestDaemon, tempHome } from '../helpers/daemon.js';
import { type ToolsHarness, toolsHarness } from '../tools/helpers.js';

/** A window title, an erased line and a cursor moved up: what a hostile file name carries. */
const EVIL = 'report\x1b]0;PWNED\x07\x1b[2K\x1b[1A';

function capture(home: string): { io: CliIO; text: () => string } {
  const lines: string[] = [];
  return {
    io: {
      out: (t) => lines.push(t),
      err: (t) => lines.push(t),
      env: { ERRAND_HOME: home, PATH: process.env.PATH },
      interactive: false,
      confirm: async () => false,
    },
    text: () => lines.join('\n'),
  };
}

async function errand(home: string, args: string[]): Promise<{ code: number; text: string }> {
  const c = capture(home);
  const code = await runCli(args, c.io);
  return { code, text: c.text() };
}

/** No escape or bell reaches the terminal; the name is still there, its escapes made visible. */
function expectShownNotRun(text: string, where: string): void {
  expect.soft(text, where).not.toMatch(/[\x1b\x07]/);
  expect.soft(text, where).toContain('report\\x1b]0;PWNED\\x07');
}

describe('errand trash', () => {
  let h: ToolsHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('lists, restores and refuses a deleted file whose name holds escapes without passing them through', async () => {
    h = await toolsHarness({ listen: true });
    const ws = fs.realpathSync(h.ctx.paths.workspace);
    const name = `${EVIL}real.txt`;
    fs.writeFileSync(path.join(ws, name), 'x');
    await h.run('fs_delete', { path: name }, h.task({ taskId: 'task_x' }));

    const list = await errand(h.home, ['trash']);
    expect(list.code).toBe(0);
    expectShownNotRun(list.text, 'errand trash');
    const id = /^(\S+)\s/m.exec(list.text)![1];

    // The place is taken again: the refusal quotes the path.
    fs.writeFileSync(path.join(ws, name), 'new');
    const refused = await errand(h.home, ['trash', 'restore', id]);
    expect(refused.code).toBe(1);
    expectShownNotRun(refused.text, 'errand trash restore, refused');

    fs.rmSync(path.join(ws, name));
    const restored = await errand(h.home, ['trash', 'restore', id]);
    expect(restored.code).toBe(0);
    expect(restored.text).toMatch(/^Restored /);
    expectShownNotRun(restored.text, 'errand trash restore');
  }, 60_000);
});

describe('errand roots and errand status', () => {
  let td: TestDaemon | undefined;
  const homes: string[] = [];
  afterEach(async () => {
    await td?.stop();
    td = undefined;
    for (const h of homes.splice(0)) fs.rmSync(h, { recursive: true, force: true });
  });

  it('show a root folder and a computer name with escapes as visible text', async () => {
    const home = tempHome('errand-escapes-');
    homes.push(home);
    const root = path.join(home, `${EVIL}folder`);
    fs.mkdirSync(root);
    const config = { port: 0, roots: [root], hostName: `${EVIL}desk` };
    fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify(config), { mode: 0o600 });

    // No daemon: read from config.json.
    const stopped = await errand(home, ['roots']);
    expect(stopped.code).toBe(0);
    expectShownNotRun(stopped.text, 'errand roots, no daemon');

    td = await startTestDaemon({ home });
    const running = await errand(home, ['roots']);
    expect(running.code).toBe(0);
    expectShownNotRun(running.text, 'errand roots');

    const status = await errand(home, ['status']);
    expect(status.code).toBe(0);
    expectShownNotRun(status.text, 'errand status');
    expect(status.text).toContain('desk');
  }, 60_000);
});
