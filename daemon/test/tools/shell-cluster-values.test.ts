// In a cluster of short options any letter may take the rest as its value: `date -uf FILE`'s
// value belongs to its second letter. A wide ("allow for this task") grant for a plain reader
// never covers such a value naming a file outside the allowed folders (it would print it).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { shellActionClass } from '../../src/tools/shell.js';
import { pathCandidates } from '../../src/tools/shell-grants.js';
import { runDeciding, type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness | undefined;
let outside: string | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  if (outside) fs.rmSync(outside, { recursive: true, force: true });
  outside = undefined;
});

const notAbsolute = (c: string) => !c.startsWith('/');

it('the value of any letter of a cluster is a candidate file name', () => {
  expect(pathCandidates('-uf/etc/passwd')).toContain('/etc/passwd');
  expect(pathCandidates('-bm/etc/magic')).toContain('/etc/magic');
  expect(shellActionClass(['date', '-uf/etc/passwd'], true, notAbsolute)).not.toBe(
    shellActionClass(['date'], true, notAbsolute),
  );
  expect(shellActionClass(['date', '-u'], true, notAbsolute)).toBe(shellActionClass(['date'], true, notAbsolute));
  // Too many letters to try each: exact.
  expect(shellActionClass(['cat', `-${'n'.repeat(40)}`], true, notAbsolute)).not.toBe(
    shellActionClass(['cat', 'a'], true, notAbsolute),
  );
});

it('rg --hostname-bin (runs a program) is never covered by a grant for rg', () => {
  const inside = () => true;
  expect(shellActionClass(['rg', '--hostname-bin=./x', 'p'], true, inside)).not.toBe(
    shellActionClass(['rg', 'p'], true, inside),
  );
});

for (const [granted, attack] of [
  [['date'], (file: string) => ['date', `-uf${file}`]],
  [['file', 'a.txt'], (file: string) => ['file', `-bm${file}`, 'a.txt']],
] as const) {
  it(`sandboxed, a grant for ${granted.join(' ')} does not cover ${attack('FILE').join(' ')} naming a file outside`, async () => {
    h = await toolsHarness({ config: { shell: { sandbox: 'auto' } } });
    expect(h.tools.sandbox.state.enabled).toBe(true);
    fs.writeFileSync(path.join(fs.realpathSync(h.ctx.paths.workspace), 'a.txt'), 'hello\n');
    // A path free of the letters that make these clusters exact anyway (date: s; file: C f z Z).
    outside = path.join(os.tmpdir(), `k-${process.pid}-${granted.length}`);
    fs.mkdirSync(outside);
    expect(outside).not.toMatch(/[sCfzZ]/);
    const secret = path.join(outside, 'npmrc');
    fs.writeFileSync(secret, 'PRIVATE-KEY-OUTSIDE-ROOTS\n');
    const task = h.task({ taskId: 'task_cluster' });
    expect((await runDeciding(h, 'shell', { argv: [...granted] }, task, 'allow_task')).asked).toBe(true);
    const r = await runDeciding(h, 'shell', { argv: attack(secret) }, task, 'deny');
    expect(r.asked, 'it ran under the wide grant').toBe(true);
    expect(textOf(r.out)).not.toContain('PRIVATE-KEY');
  }, 60_000);
}
