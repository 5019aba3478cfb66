// What a configured stdio connector runs (its program when a path, the files its arguments name,
// and their package folder) runs later outside the sandbox with the connector's secrets: in a
// thread that read untrusted content, writing it asks and shows it whole, like .bashrc.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { Approval } from '../../../shared/src/index.js';
import { type ToolsHarness, toolsHarness } from '../tools/helpers.js';

const FIXTURE = path.resolve('daemon/test/connectors/fixture-server.mjs');

let h: ToolsHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The approval a call asks for, or undefined when it finishes without asking. */
async function approvalFor(harness: ToolsHarness, running: Promise<unknown>, seen: Set<string>) {
  const asked = harness.waitEvent('approval.requested', (e) => !seen.has(e.approval.id), 20_000);
  asked.catch(() => undefined);
  const a = await Promise.race([asked.then((e) => e.approval), running.then(() => undefined)]);
  if (a) seen.add(a.id);
  return a as Approval | undefined;
}

it('in a tainted thread, writing what a connector runs asks and shows it whole; nothing is written unless approved', async () => {
  h = await toolsHarness({ noWait: true });
  const ws = fs.realpathSync(h.ctx.paths.workspace);
  // A server being developed in the workspace, run by path: it and the file it imports.
  fs.mkdirSync(path.join(ws, 'mcp'), { recursive: true });
  const srv = path.join(ws, 'mcp', 'srv.mjs');
  fs.writeFileSync(srv, `await import(${JSON.stringify(FIXTURE)});\n`);
  // A built server in a package folder (disabled: `enable` would start it), and one whose program is a path.
  fs.mkdirSync(path.join(ws, 'tool', 'dist'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'tool', 'package.json'), '{"name":"tool","type":"module"}');
  fs.writeFileSync(path.join(ws, 'tool', 'dist', 'index.js'), '// built\n');
  h.setConfig((raw) => {
    raw.connectors = [
      { name: 'dev', transport: 'stdio', command: process.execPath, args: [srv, path.join(ws, 'desc.txt')] },
      {
        name: 'built',
        transport: 'stdio',
        command: process.execPath,
        args: [path.join(ws, 'tool', 'dist', 'index.js')],
        enabled: false,
      },
      { name: 'bin', transport: 'stdio', command: path.join(ws, 'bin-srv', 'start'), args: [] },
    ];
  });
  await h.waitEvent('connector.updated', (e) => e.connector.name === 'built' && e.connector.status === 'disabled');

  const tainted = h.task({ taskId: 'task_web', threadId: 'thr_web', tainted: true });
  const seen = new Set<string>();
  const payload = `import fs from 'node:fs';\nfs.writeFileSync('/tmp/pwned', 'ran outside the sandbox');\n`;
  for (const file of ['mcp/srv.mjs', 'mcp/lib.mjs', 'tool/dist/index.js', 'tool/dist/helper.js', 'bin-srv/start']) {
    const before = fs.existsSync(path.join(ws, file)) ? fs.readFileSync(path.join(ws, file), 'utf8') : undefined;
    const running = h.run('fs_write', { path: file, content: payload }, tainted);
    const a = await approvalFor(h, running, seen);
    expect({ file, tool: a?.tool, preview: a?.action.preview }).toEqual({ file, tool: 'fs_write', preview: payload });
    await h.send('approval.decide', { approvalId: a!.id, hash: a!.hash, decision: 'deny' });
    expect((await running).state).toBe('denied');
    const after = fs.existsSync(path.join(ws, file)) ? fs.readFileSync(path.join(ws, file), 'utf8') : undefined;
    expect(after).toBe(before);
  }
  // A file moved into the server's package folder asks the same way.
  fs.writeFileSync(path.join(ws, 'notes.txt'), payload);
  const move = h.run('fs_move', { from: 'notes.txt', to: 'tool/dist/extra.js' }, tainted);
  const moved = await approvalFor(h, move, seen);
  expect(moved?.tool).toBe('fs_move');
  await h.send('approval.decide', { approvalId: moved!.id, hash: moved!.hash, decision: 'deny' });
  expect((await move).state).toBe('denied');
  expect(fs.existsSync(path.join(ws, 'tool', 'dist', 'extra.js'))).toBe(false);

  // Files the servers do not run are written as before; a removed connector's files are ordinary again.
  expect((await h.run('fs_write', { path: 'docs/notes.md', content: 'ok\n' }, tainted)).state).toBe('completed');
  h.setConfig((raw) => {
    raw.connectors = [];
  });
  await h.waitEvent('host.updated', () => h!.tools.connectors.statuses().length === 0);
  expect((await h.run('fs_write', { path: 'mcp/srv.mjs', content: 'ok\n' }, tainted)).state).toBe('completed');
});
