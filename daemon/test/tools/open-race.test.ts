// Containment holds at the moment of the open: while another process flips a folder between a real
// folder and a link to outside as fast as it can, hundreds of reads, writes and other file tool calls
// either work inside or are refused. Zero of them read, list, create or change anything outside.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

let h: ToolsHarness;
let ws: string;
let flip: string;
let flipper: ChildProcess | undefined;
let flipperExit: Promise<unknown> | undefined;

beforeEach(async () => {
  h = await toolsHarness();
  ws = fs.realpathSync(h.ctx.paths.workspace);
  flip = path.join(ws, 'flip');
  fs.mkdirSync(flip);
  fs.writeFileSync(path.join(flip, 'doc.txt'), 'inside text');
  fs.writeFileSync(path.join(h.outside, 'doc.txt'), 'OUTSIDE SECRET');
  fs.writeFileSync(path.join(h.outside, 'outside-only.txt'), 'OUTSIDE SECRET');
});
afterEach(async () => {
  await stopFlipper();
  await h.close();
});

/** A separate process swaps the folder for a link to outside and back, as fast as it can. */
async function startFlipper(): Promise<void> {
  const script = `
    const fs = require('fs');
    const [flip, outside] = process.argv.slice(1);
    const parked = flip + '.parked';
    const stop = Date.now() + 60000;
    process.stdin.on('data', () => process.exit(0));
    let told = false;
    const loop = () => {
      if (!told) { told = true; process.stdout.write('flipping\\n'); }
      for (let i = 0; i < 200 && Date.now() < stop; i++) {
        try { fs.renameSync(flip, parked); } catch {}
        try { fs.symlinkSync(outside, flip); } catch {}
        try { fs.unlinkSync(flip); } catch {}
        try { fs.renameSync(parked, flip); } catch {}
      }
      if (Date.now() < stop) setImmediate(loop); else process.exit(0);
    };
    loop();`;
  flipper = spawn(process.execPath, ['-e', script, flip, h.outside], { stdio: ['pipe', 'pipe', 'inherit'] });
  flipperExit = new Promise((resolve) => flipper!.once('exit', resolve));
  // The race is on before the first call.
  await new Promise((resolve) => flipper!.stdout!.once('data', resolve));
}

async function stopFlipper(): Promise<void> {
  if (!flipper) return;
  flipper.stdin?.end('stop');
  await flipperExit;
  flipper = undefined;
  // Remove the link if the flip left one (a write may have made the folder anew while it was parked).
  if (fs.lstatSync(flip, { throwIfNoEntry: false })?.isSymbolicLink()) fs.unlinkSync(flip);
}

/** Names written inside, wherever the flip left the folder. */
const insideNames = (pattern: RegExp) =>
  [flip, `${flip}.parked`].flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d) : [])).filter((n) => pattern.test(n));

const outsideNow = () => fs.readdirSync(h.outside).sort();

it('300 reads and 200 writes under a folder flipped to a link: zero escapes', async () => {
  await startFlipper();
  let readsInside = 0;
  let writesInside = 0;
  const leaks: string[] = [];
  for (let i = 0; i < 300; i++) {
    const out = await h.run('fs_read', { path: 'flip/doc.txt' });
    const t = textOf(out);
    if (t.includes('OUTSIDE SECRET')) leaks.push(`read ${i}`);
    else if (!out.isError && t.includes('inside text')) readsInside++;
  }
  for (let i = 0; i < 200; i++) {
    const out = await h.run('fs_write', { path: `flip/w${i}.txt`, content: `written ${i}` });
    if (!out.isError) writesInside++;
  }
  await stopFlipper();
  expect(leaks).toEqual([]);
  expect(outsideNow()).toEqual(['doc.txt', 'outside-only.txt']);
  expect(fs.readFileSync(path.join(h.outside, 'doc.txt'), 'utf8')).toBe('OUTSIDE SECRET');
  // Every write that reported success is inside.
  expect(insideNames(/^w\d+\.txt$/).length).toBe(writesInside);
  // The race did not simply refuse everything.
  expect(readsInside + writesInside).toBeGreaterThan(0);
}, 120_000);

it('lists, searches, info, edits, folders, moves and deletes under the same race: zero escapes', async () => {
  await startFlipper();
  const leaks: string[] = [];
  const check = (what: string, out: Awaited<ReturnType<ToolsHarness['run']>>) => {
    const t = textOf(out);
    if (t.includes('OUTSIDE SECRET') || t.includes('outside-only')) leaks.push(what);
  };
  for (let i = 0; i < 60; i++) {
    check(`list ${i}`, await h.run('fs_list', { path: 'flip' }));
    check(`search ${i}`, await h.run('fs_search', { query: 'SECRET', path: 'flip' }));
    check(`info ${i}`, await h.run('fs_info', { path: 'flip/doc.txt' }));
    await h.run('fs_edit', { path: 'flip/doc.txt', old_text: 'inside', new_text: 'inside' });
    await h.run('fs_mkdir', { path: `flip/d${i}/e` });
    await h.run('fs_write', { path: `flip/m${i}.txt`, content: 'm' });
    await h.run('fs_move', { from: `flip/m${i}.txt`, to: `flip/moved${i}.txt` });
    await h.run('fs_delete', { path: `flip/moved${i}.txt` });
  }
  await stopFlipper();
  expect(leaks).toEqual([]);
  expect(outsideNow()).toEqual(['doc.txt', 'outside-only.txt']);
  expect(fs.readFileSync(path.join(h.outside, 'doc.txt'), 'utf8')).toBe('OUTSIDE SECRET');
}, 120_000);
